package org.ipi4j.interrupts;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscArrayQueue;

/**
 * One core's interrupt state: the interrupt request register (a pending bit per vector) and a
 * bounded JCTools MPSC mailbox per enabled vector. It knows nothing of threads: the machine's
 * cores and interrupt controller drive it, and the jcstress suite drives it directly, so the
 * ordering proofs cover exactly the code the cores run.
 *
 * <h2>Protocol and happens-before</h2>
 * A sender {@link #offer}s its payload (a release store in the mailbox), then {@link #raise}s the
 * vector with a volatile read-modify-write of the IRR word. The receiver, at an instruction
 * boundary, sees the bit ({@link #highestPending()}, acquire), then {@link #accept}s the vector:
 * it clears the bit with a volatile read-modify-write <em>before</em> draining the mailbox. So:
 * <ul>
 *   <li>everything a sender wrote before raising happens-before the receiver's accept that
 *       clears the bit it set (the RMWs on one word are totally ordered);</li>
 *   <li>a payload offered after the drain started has its bit raised again by its sender, so it
 *       is never stranded (no lost interrupt);</li>
 *   <li>raising a vector that is already pending coalesces: {@link #raise} returns false, and the
 *       payload is drained by the pending entry.</li>
 * </ul>
 * Thread-safe for any number of senders and one receiver.
 */
public final class LocalApic {
    private static final VarHandle IRR = MethodHandles.arrayElementVarHandle(long[].class);

    private final int cpu;
    private final long[] irr = new long[Vector.COUNT / 64];
    private final AtomicReferenceArray<MessagePassingQueue<Object>> mailboxes =
        new AtomicReferenceArray<>(Vector.COUNT);

    public LocalApic(final int cpu) {
        this.cpu = cpu;
    }

    /** The core this state belongs to. */
    public int cpu() {
        return cpu;
    }

    /** Gives {@code vector} a mailbox of {@code capacity} payloads (rounded up to a power of two). */
    public void enable(final int vector, final int capacity) {
        mailboxes.set(vector, new MpscArrayQueue<>(capacity));
    }

    /** True if {@code vector} has a mailbox. */
    public boolean enabled(final int vector) {
        return mailboxes.get(vector) != null;
    }

    /** Queues {@code payload} for {@code vector}; false if the mailbox is full. Any thread. */
    public boolean offer(final int vector, final Object payload) {
        return mailboxes.get(vector).offer(payload);
    }

    /**
     * Sets {@code vector}'s pending bit (volatile RMW: it releases everything before it).
     *
     * @return true if the bit was newly set (the receiver may need waking), false if the request
     *         coalesced with one already pending
     */
    public boolean raise(final int vector) {
        final long bit = 1L << vector;
        return ((long) IRR.getAndBitwiseOr(irr, vector >>> 6, bit) & bit) == 0;
    }

    /** True if any vector is pending (acquire). */
    public boolean anyPending() {
        return ((long) IRR.getAcquire(irr, 0) | (long) IRR.getAcquire(irr, 1)
            | (long) IRR.getAcquire(irr, 2) | (long) IRR.getAcquire(irr, 3)) != 0;
    }

    /** True if {@code vector} is pending (acquire). */
    public boolean pending(final int vector) {
        return ((long) IRR.getAcquire(irr, vector >>> 6) & (1L << vector)) != 0;
    }

    /** The highest pending vector (highest priority class first), or -1. */
    public int highestPending() {
        for (int w = irr.length - 1; w >= 0; w--) {
            final long bits = (long) IRR.getAcquire(irr, w);
            if (bits != 0) {
                return (w << 6) + 63 - Long.numberOfLeadingZeros(bits);
            }
        }
        return -1;
    }

    /**
     * Takes {@code vector}: clears its pending bit, then drains its mailbox (at most one
     * mailbox-full, so a flooding sender cannot hold the receiver in one entry forever).
     * Receiver only.
     *
     * @return the payloads, oldest first per sender; empty for doorbells
     */
    public List<Object> accept(final int vector) {
        IRR.getAndBitwiseAnd(irr, vector >>> 6, ~(1L << vector));
        return drain(vector);
    }

    private List<Object> drain(final int vector) {
        final MessagePassingQueue<Object> box = mailboxes.get(vector);
        if (box == null || box.isEmpty()) {
            return List.of();
        }
        final ArrayList<Object> out = new ArrayList<>();
        box.drain(out::add, box.capacity());
        return Collections.unmodifiableList(out);
    }

    /** Everything still pending, for a receiver that will run no more (shutdown). */
    public List<UndeliveredInterrupt> takeAll() {
        final List<UndeliveredInterrupt> out = new ArrayList<>();
        for (int v = Vector.COUNT - 1; v >= Vector.FIRST_IPI; v--) {
            final boolean wasPending = pending(v);
            final List<Object> left = accept(v);
            if (wasPending || !left.isEmpty()) {
                out.add(new UndeliveredInterrupt(cpu, Vector.of(v), left));
            }
        }
        return out;
    }
}
