package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscArrayQueue;

/**
 * The part of one core that senders write: the interrupt request register (IRR, a pending bit per
 * vector) and a bounded JCTools MPSC mailbox per registered vector. It knows nothing of threads:
 * its core's {@link CpuPort} drives it from both sides (a sender's half and the core's interrupt
 * entry), and the jcstress suite drives it directly, so the ordering proofs cover exactly the code
 * the cores run.
 *
 * <h2>Protocol and happens-before</h2>
 * A sender {@link #offer}s its payload (a release store in the mailbox), then raises the vector:
 * {@link #raiseAfterOffer} writes the bit only if it is clear; a doorbell without payload always
 * writes it ({@link #raise}). The receiver, at an instruction boundary, sees the bit
 * ({@link #highestPending()}), then {@link #accept}s the vector: it drains the mailbox, clears the
 * bit with a volatile read-modify-write, and drains again. So:
 * <ul>
 *   <li>everything a sender wrote before sending happens-before the handler: through the payload
 *       (release store, acquire poll) or, for a doorbell, through the IRR word (the sender's RMW,
 *       then the receiver's clearing RMW);</li>
 *   <li>no payload is stranded: a sender that found the bit set offered before the clear, and
 *       the drain after the clear finds it; a sender that found it clear sets it, and the next
 *       boundary takes it;</li>
 *   <li>sends to a vector that is already pending coalesce: one entry drains them all, and while
 *       the receiver drains, payload senders do not write the IRR line at all.</li>
 * </ul>
 * Thread-safe for any number of senders and one receiver. The IRR words sit on cache lines of
 * their own: senders write them, and nothing the owner writes at every instruction shares them.
 */
@InternalApi
public final class LocalApic {
    private static final VarHandle IRR = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs of padding before and after the four IRR words: two cache lines of 64 bytes each side. */
    private static final int PAD = 16;
    /** Word 0 holds vectors 0-31 (exceptions, never raised here) and 32-63. */
    private static final int WORDS = Vector.COUNT / 64;

    private final int cpu;
    private final long[] irr = new long[PAD + WORDS + PAD];
    /** Published before the vector's IDT entry (see Idt.register); read only after it. */
    private final MessagePassingQueue<Object>[] mailboxes;
    /** Sends that found their vector already pending (many senders: a LongAdder). */
    final LongAdder coalesced = new LongAdder();
    /**
     * Per vector, when the send that raised it was made; written only while JFR records
     * InterruptHandled (diagnostics: racing senders may overwrite each other). Allocated on first use.
     */
    private volatile AtomicLongArray raisedAt;

    /** Posted mode: notification word bits. */
    private static final int ON = 1;
    private static final int SN = 2;
    private static final VarHandle NOTIFICATION;

    static {
        try {
            NOTIFICATION = MethodHandles.lookup().findVarHandle(LocalApic.class, "notification", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link DeliveryMode#POSTED}: ON decides notifications for every vector at once. */
    private final boolean posted;
    /** Posted mode: ON | SN, padded away from the IRR by the IRR's own padding. */
    private volatile int notification;
    private final LongAdder notifications = new LongAdder();
    private final LongAdder suppressed = new LongAdder();

    /**
     * The pending bits and mailboxes of core {@code cpu}, with no vector enabled yet, in
     * {@link DeliveryMode#PER_VECTOR} mode.
     *
     * @param cpu the core's id
     */
    public LocalApic(final int cpu) {
        this(cpu, DeliveryMode.PER_VECTOR);
    }

    /**
     * The pending bits and mailboxes of core {@code cpu}, with no vector enabled yet.
     *
     * @param cpu the core's id
     * @param mode how senders decide to notify this core
     */
    @SuppressWarnings("unchecked")
    public LocalApic(final int cpu, final DeliveryMode mode) {
        this.cpu = cpu;
        this.posted = mode == DeliveryMode.POSTED;
        this.mailboxes = new MessagePassingQueue[Vector.COUNT];
    }

    /** {@return true in {@link DeliveryMode#POSTED} mode} */
    public boolean posted() {
        return posted;
    }

    /**
     * Posted mode, the sender's second step after it set the vector's bit: sets ON, and answers
     * whether this send must notify the core, which is only when ON went from 0 to 1 and SN is clear.
     * A volatile read-modify-write after the bit's; partner: the core's clearing of ON in
     * {@link #anyPending()}, followed by its volatile reads of the bits.
     *
     * @return true if the caller must signal the core
     */
    public boolean postNotification() {
        for (;;) {
            final int w = notification;
            if ((w & (ON | SN)) != 0) {
                suppressed.increment(); // a notification is outstanding, or the core is descheduled
                return false;
            }
            if (NOTIFICATION.compareAndSet(this, w, w | ON)) {
                notifications.increment();
                return true;
            }
        }
    }

    /**
     * Posted mode: sets or clears SN (suppress notification), while the core is descheduled. The
     * core looks at its bits when it runs again, whatever SN said meanwhile. Owner only.
     *
     * @param on true while the core is preempted
     */
    public void suppressNotifications(final boolean on) {
        if (on) {
            NOTIFICATION.getAndBitwiseOr(this, SN);
        } else {
            NOTIFICATION.getAndBitwiseAnd(this, ~SN);
        }
    }

    /** {@return posted mode: sends that set ON from 0 to 1 and so notified the core} */
    public long notifications() {
        return notifications.sum();
    }

    /** {@return posted mode: sends that did not notify (ON already set, or SN)} */
    public long suppressedNotifications() {
        return suppressed.sum();
    }

    /** {@return the core this state belongs to} */
    public int cpu() {
        return cpu;
    }

    /**
     * Stamps the time of a send that is about to raise {@code vector}, if it is not pending yet:
     * for the JFR InterruptHandled event's delivery latency. Call it before {@link #raise}, whose
     * read-modify-write publishes the stamp to the receiver (partner: {@link #raisedAt}, read after
     * the receiver found the bit set). Any thread; only while that event is recorded.
     *
     * @param vector the interrupt vector
     * @param nanos {@code System.nanoTime()} of the send
     */
    public void stampRaise(final int vector, final long nanos) {
        AtomicLongArray stamps = raisedAt;
        if (stamps == null) {
            stamps = new AtomicLongArray(Vector.COUNT); // a racing sender may make another: either is fine
            raisedAt = stamps;
        }
        if (!pending(vector)) {
            stamps.setOpaque(vector, nanos);
        }
    }

    /**
     * {@return when the send that raised {@code vector} was made, or 0 if it was not stamped} Owner only,
     * after it saw the bit set.
     *
     * @param vector the interrupt vector
     */
    public long raisedAt(final int vector) {
        final AtomicLongArray stamps = raisedAt;
        return stamps == null ? 0L : stamps.getAndSet(vector, 0L);
    }

    /**
     * Sends to this core that found their vector already pending.
     *
     * @return the count so far
     */
    public long coalesced() {
        return coalesced.sum();
    }

    /**
     * Gives {@code vector} a mailbox of {@code capacity} payloads (rounded up to a power of two).
     * Not thread-safe: call it before the vector can be sent (the IDT entry publishes it).
     *
     * @param vector the interrupt vector
     * @param capacity the capacity
     */
    public void enable(final int vector, final int capacity) {
        mailboxes[vector] = new MpscArrayQueue<>(capacity);
    }

    /**
     * {@return true if {@code vector} has a mailbox}
     *
     * @param vector the interrupt vector
     */
    public boolean enabled(final int vector) {
        return mailboxes[vector] != null;
    }

    /**
     * Queues {@code payload} for {@code vector}; false if the mailbox is full. Any thread.
     *
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @return true if queued
     */
    public boolean offer(final int vector, final Object payload) {
        return mailboxes[vector].offer(payload);
    }

    /**
     * Sets {@code vector}'s pending bit with a volatile read-modify-write, which releases
     * everything the caller did before it, even when the bit was already set. Use it for a
     * doorbell without payload. Partner accesses: the receiver's clearing RMW in {@link #accept},
     * and its volatile re-check in {@link #anyPending()} before parking.
     *
     * @param vector the interrupt vector
     * @return true if the bit was newly set (the receiver may need waking), false if the request
     *         coalesced with one already pending
     */
    public boolean raise(final int vector) {
        final long bit = 1L << vector;
        if (((long) IRR.getAndBitwiseOr(irr, PAD + (vector >>> 6), bit) & bit) == 0) {
            return true;
        }
        coalesced.increment();
        return false;
    }

    /**
     * {@link #raise} for a send whose payload the caller has just {@link #offer}ed: if the bit is
     * already set, nothing is written (test before test-and-set), so a flood of sends to one
     * vector does not fight over the IRR line.
     *
     * <p>Why no payload is stranded: the offer is a volatile read-modify-write of the mailbox's
     * producer index and the test a volatile load, so if the test saw the bit set, the receiver's
     * clearing RMW in {@link #accept} comes later in the synchronization order, and so does its
     * second look at the mailbox, made after the clear; it polls with JCTools' {@code poll()},
     * which waits for an element whose index it has seen. The handler sees the sender's earlier writes through
     * the payload itself (release store of the element, acquire load by the poll), which is why a
     * doorbell without payload must use {@link #raise}.
     *
     * @param vector the interrupt vector
     * @return true if the vector was not pending before: the caller must signal the core
     */
    public boolean raiseAfterOffer(final int vector) {
        final long bit = 1L << vector;
        if (((long) IRR.getVolatile(irr, PAD + (vector >>> 6)) & bit) != 0) {
            coalesced.increment();
            return false;
        }
        return raise(vector);
    }

    /**
     * True if any vector is pending. Volatile loads, not acquire: the idle loop calls this right
     * after publishing PARKED with a volatile store, and only volatile accesses on both sides order
     * that store before these loads (partner: the sender's {@link #raise} followed by its volatile
     * read of the idle state in {@link IdleLoop#wake()}).
     *
     * @return true if any vector is pending
     */
    public boolean anyPending() {
        if (posted && (notification & ON) != 0) {
            // Clear ON before looking at the bits (volatile RMW, then the volatile loads below): a
            // sender that later finds ON set was preceded by one that set it after this clear,
            // and that one signals us.
            NOTIFICATION.getAndBitwiseAnd(this, ~ON);
        }
        // Word 0 can only hold vectors 32-63; 0-31 are exceptions and are never raised.
        return ((long) IRR.getVolatile(irr, PAD) | (long) IRR.getVolatile(irr, PAD + 1)
            | (long) IRR.getVolatile(irr, PAD + 2) | (long) IRR.getVolatile(irr, PAD + 3)) != 0;
    }

    /**
     * {@return true if {@code vector} is pending (acquire: pairs with the sender's {@link #raise})}
     *
     * @param vector the interrupt vector
     */
    public boolean pending(final int vector) {
        return ((long) IRR.getAcquire(irr, PAD + (vector >>> 6)) & (1L << vector)) != 0;
    }

    /**
     * The highest pending vector (highest priority class first), or -1. Acquire loads: seeing a
     * bit means seeing everything its sender wrote before {@link #raise}.
     *
     * @return the highest pending vector, or -1
     */
    public int highestPending() {
        for (int w = WORDS - 1; w >= 0; w--) {
            final long bits = (long) IRR.getAcquire(irr, PAD + w);
            if (bits != 0) {
                return (w << 6) + 63 - Long.numberOfLeadingZeros(bits);
            }
        }
        return -1;
    }

    /**
     * Takes {@code vector}: drains its mailbox into {@code sink}, clears its pending bit, then
     * drains again (a payload offered before the clear whose raise found the bit still set is
     * taken now, not stranded behind a cleared bit); at most one mailbox-full in all, so a flooding
     * sender cannot hold the receiver in one entry forever.
     * Receiver only; allocates nothing.
     *
     * @param vector the interrupt vector
     * @param sink receives each payload
     * @return how many payloads were drained; 0 for a doorbell
     */
    public int accept(final int vector, final MessagePassingQueue.Consumer<Object> sink) {
        final int word = PAD + (vector >>> 6);
        final long bit = 1L << vector;
        final MessagePassingQueue<Object> box = mailboxes[vector];
        if (box == null) {
            IRR.getAndBitwiseAnd(irr, word, ~bit);
            return 0;
        }
        final int limit = box.capacity();
        // 1. Drain while the bit is still set: a payload sender that finds it set writes nothing
        //    (raiseAfterOffer), so a stream of sends during a drain costs no IRR traffic. A
        //    relaxed drain is enough here (it stops at an element not yet visible and does not
        //    read the senders' producer index): step 3 is the one that must not miss anything.
        int n = box.drain(sink, limit);
        // 2. Clear: the partner of the senders' test (and of a doorbell's set, whose writes this
        //    read-modify-write acquires).
        IRR.getAndBitwiseAnd(irr, word, ~bit);
        // 3. Look again: a sender whose test saw the bit set before step 2 offered before it, so
        //    its payload is visible now. Past the limit, raise the bit again for the next entry.
        n += drain(box, sink, limit - n);
        if (n == limit && !box.isEmpty()) {
            IRR.getAndBitwiseOr(irr, word, bit);
        }
        return n;
    }

    /**
     * Polls up to {@code limit} payloads. {@code poll()}, not a relaxed drain: a relaxed poll may
     * miss an element whose producer index it has seen but whose store is not yet visible;
     * {@code poll()} waits for it (see {@link #raiseAfterOffer}).
     */
    private static int drain(final MessagePassingQueue<Object> box, final MessagePassingQueue.Consumer<Object> sink,
                             final int limit) {
        int n = 0;
        Object payload;
        while (n < limit && (payload = box.poll()) != null) {
            sink.accept(payload);
            n++;
        }
        return n;
    }

    /**
     * {@return {@link #accept(int, MessagePassingQueue.Consumer)} into a new list (tests, shutdown)}
     *
     * @param vector the interrupt vector
     */
    public List<Object> accept(final int vector) {
        final List<Object> out = new ArrayList<>();
        accept(vector, out::add);
        return out.isEmpty() ? List.of() : List.copyOf(out);
    }

    /** {@return everything still pending, for a receiver that will run no more (shutdown)} */
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
