package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.time.Timeline;

/**
 * The closing protocol of one machine's sends: once {@link #close} has returned, no sender is
 * between its closed check and its raise (the gate is left after the raise), so nothing lands after the machine collected what was
 * left; a sender that looks after the close is refused with nothing queued.
 *
 * <h2>How</h2>
 * A sender {@link #enter enters}, then {@link #checkOpen checks}, offers and raises, then
 * {@link #exit exits}. A core counts its send depth in its own padded slot: a volatile store of
 * depth + 1 on entry, a release store of depth - 1 on exit. It is a depth, not a flag, because a
 * BLOCK send that backs off takes the core's own interrupts and a handler may send: the nested
 * exit must not announce that the outer send is over. A thread that is not a core counts itself
 * in and out on a pair of counters in a stripe chosen by its thread id, each stripe on cache
 * lines of its own. The closer stores {@code closed} (volatile), then reads every core's depth and
 * every stripe (left first, then entered): store then load on both sides, a Dekker pair, so
 * either the sender sees {@code closed} or the closer sees the sender. The closer waits for the
 * senders it sees, but only until a deadline: a sender that never leaves (a core whose back-off
 * took a handler that never returns) is named instead of hanging the close. jcstress
 * {@code SendGateClosing} drives this class, nesting included.
 *
 * <p>Thread-safety: {@link #enter}/{@link #exit} with a core id only on that core's own thread;
 * everything else from any thread.
 */
@InternalApi
public final class SendGate {
    /** Longs per slot: a core's depth, or a stripe's entered and left counts, on 128 bytes of their own. */
    private static final int STRIDE = 16;
    private static final VarHandle DEPTH = MethodHandles.arrayElementVarHandle(long[].class);

    private final String name;
    private final Timeline timeline;
    /** Per core, at {@code (cpu + 1) * STRIDE}: its send depth. Written by the core only. */
    private final long[] depths;
    private final int cores;
    /** Outside threads, per stripe: {@code [stripe * STRIDE]} entered, {@code [stripe * STRIDE + 1]} left. */
    private final AtomicLongArray outside;
    private final int stripeMask;
    private final LongAdder outsideRefused = new LongAdder();
    private volatile boolean closed;

    /**
     * A gate for {@code cores} cores and any number of other threads.
     *
     * @param name the machine's name, for messages
     * @param cores how many cores send through it
     * @param stripes slots for outside threads, a power of two
     * @param timeline the machine's spin and yield (the host's, or a simulation's)
     */
    public SendGate(final String name, final int cores, final int stripes, final Timeline timeline) {
        if (stripes < 1 || Integer.bitCount(stripes) != 1) {
            throw new IllegalArgumentException("stripes must be a power of two, not " + stripes);
        }
        this.name = name;
        this.timeline = timeline;
        this.cores = cores;
        this.depths = new long[(cores + 2) * STRIDE];
        this.stripeMask = stripes - 1;
        this.outside = new AtomicLongArray(stripes * STRIDE);
    }

    /**
     * Enters a send: for core {@code self}, a volatile store of its depth + 1; for an outside
     * thread ({@code self < 0}), an RMW of its stripe's entered count. Either is ordered before
     * the {@link #checkOpen} that follows (partner: the closer's store of {@code closed}, then
     * its reads of the depths and stripes).
     *
     * @param self the calling core's id, or -1 for a thread that is not a core
     */
    public void enter(final int self) {
        if (self >= 0) {
            final int i = (self + 1) * STRIDE;
            DEPTH.setVolatile(depths, i, (long) DEPTH.getOpaque(depths, i) + 1); // owner-only writer
        } else {
            outside.getAndIncrement(stripe());
        }
    }

    /**
     * Leaves a send (after its raise): a release store of the depth - 1, or an RMW of the stripe's
     * left count, so a closer that sees the sender gone sees what it did.
     *
     * @param self the calling core's id, or -1 for a thread that is not a core
     */
    public void exit(final int self) {
        if (self >= 0) {
            final int i = (self + 1) * STRIDE;
            DEPTH.setRelease(depths, i, (long) DEPTH.getOpaque(depths, i) - 1);
        } else {
            outside.getAndIncrement(stripe() + 1);
        }
    }

    /**
     * Counts a send of an outside thread that entered and was refused (it does not count as sent).
     *
     * @param self the calling core's id, or -1 for a thread that is not a core
     */
    public void refused(final int self) {
        if (self < 0) {
            outsideRefused.increment();
        }
    }

    /** {@return sends by threads that are not cores that left the gate and were not refused} */
    public long outsideSends() {
        long left = 0;
        for (int i = 0; i <= stripeMask; i++) {
            left += outside.get(i * STRIDE + 1);
        }
        return left - outsideRefused.sum();
    }

    /** The calling thread's stripe (index of its entered counter): a Fibonacci hash of its id. */
    private int stripe() {
        final long h = Thread.currentThread().getId() * 0x9E3779B97F4A7C15L;
        return ((int) (h >>> 40) & stripeMask) * STRIDE;
    }

    /**
     * Refuses if the gate is closed. Between {@link #enter} and the offer.
     *
     * @throws MachineClosedException if the machine is closing: nothing was sent or queued
     */
    public void checkOpen() {
        if (closed) { // partner: the closer's store in close(), then its reads of the senders
            throw new MachineClosedException("machine " + name + " is closed: nothing was sent or queued");
        }
    }

    /** {@return true once the gate refuses sends} */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Refuses new sends, then waits until no sender is between its closed check and its raise, or
     * until {@code deadlineNanos} ({@link System#nanoTime()}: shutdown runs in real time, even for
     * a simulation) has passed.
     *
     * @param deadlineNanos when to stop waiting, on {@link System#nanoTime()}'s clock
     * @return the senders still inside a send at the deadline, described (empty when none): a
     *         payload of theirs may still land after this returns
     */
    public List<String> close(final long deadlineNanos) {
        closed = true;
        final List<String> inFlight = new ArrayList<>();
        int spins = 0;
        for (int cpu = 0; cpu < cores; cpu++) {
            timeline.interleave(); // closed is published; a sender that passed its check before it may still be in flight
            final int i = (cpu + 1) * STRIDE;
            while ((long) DEPTH.getVolatile(depths, i) != 0) {
                if (System.nanoTime() - deadlineNanos >= 0) {
                    inFlight.add("core " + cpu + " is still inside a send");
                    break;
                }
                spins = backOff(spins);
            }
        }
        // Per stripe, left first, then entered: equal means every thread of the stripe that
        // entered before the second read had left before the first. Any thread that enters a
        // stripe after we looked at it reads closed == true and refuses.
        for (int s = 0; s <= stripeMask; s++) {
            while (outside.get(s * STRIDE + 1) != outside.get(s * STRIDE)) {
                if (System.nanoTime() - deadlineNanos >= 0) {
                    inFlight.add("an outside thread (stripe " + s + ") is still inside a send");
                    break;
                }
                spins = backOff(spins);
            }
        }
        return inFlight;
    }

    /** Refuses new sends without waiting (a core cannot wait for itself). */
    public void closeFromCore() {
        closed = true;
    }

    private int backOff(final int spins) {
        if (spins < 1000) {
            timeline.spinWait();
        } else {
            timeline.yieldCpu();
        }
        return spins + 1;
    }
}
