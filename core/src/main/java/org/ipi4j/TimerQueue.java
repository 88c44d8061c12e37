package org.ipi4j;

import java.util.Comparator;
import java.util.PriorityQueue;

import org.ipi4j.apic.IdleLoop;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.time.Timeline;

/**
 * The timers of one core: a heap ordered by due time, which any thread adds to and cancels from
 * and the core takes due timers from between tasks. The run loop asks {@link #due()} (a volatile
 * load, and a clock read only while a timer is armed) and parks until {@link #deadline()}.
 *
 * <p>Thread-safety: the heap, the sequence and the closed flag are guarded by this object's lock,
 * held for a few heap operations and never while a timer runs or a core is woken. {@link #due()},
 * {@link #deadline()} and {@link #runDue} belong to the owning core. The wake-up of a parked core
 * is the idle handshake: a scheduler whose timer became the earliest stores {@code rearm}
 * (volatile), then reads the idle state in the waker; the core publishes PARKED, then reads
 * {@code rearm} in its run loop's re-check ({@link #rearmed()}).
 */
final class TimerQueue {
    private static final Comparator<CoreTimer> ORDER = (a, b) -> a.due != b.due
        ? Long.compare(a.due - b.due, 0) : Long.compare(a.sequence, b.sequence); // due times compared as clock differences

    private final int cpu;
    private final Timeline timeline;
    private final PriorityQueue<CoreTimer> heap = new PriorityQueue<>(ORDER); // guarded by this
    private long sequence; // guarded by this
    private boolean closed; // guarded by this
    /** The timer the core runs now, or null: set under this lock as it leaves the heap, cleared after its run. */
    private volatile CoreTimer running;
    /** A new earliest timer arrived: the core must look again. Partner: the run loop's re-check. */
    private volatile boolean rearm;
    // ---- owned by the core thread, refreshed under the lock by runDue -------------------
    private boolean armed;
    private long nextDue;

    TimerQueue(final int cpu, final Timeline timeline) {
        this.cpu = cpu;
        this.timeline = timeline;
    }

    /**
     * A timer for {@code task}, due {@code delayNanos} from now, every {@code periodNanos} after
     * (0: once); {@code wake} runs, outside the lock, if it became the earliest.
     *
     * @throws MachineClosedException if the core's timers were closed by shutdown (nothing scheduled)
     */
    CoreTimer schedule(final Runnable task, final long delayNanos, final long periodNanos, final Runnable wake) {
        final CoreTimer t;
        final boolean first;
        synchronized (this) {
            if (closed) {
                throw new MachineClosedException("core " + cpu + " stopped: its timers are closed");
            }
            t = new CoreTimer(cpu, task, timeline.nanoTime() + delayNanos, periodNanos, sequence++, this::remove);
            heap.add(t);
            first = heap.peek() == t;
        }
        if (first) {
            rearm = true; // volatile store, then the waker's read of the idle state
            wake.run();
        }
        return t;
    }

    /** Takes a cancelled timer out of the heap (a cancel from any thread). */
    synchronized void remove(final CoreTimer t) {
        heap.remove(t);
    }

    /** {@return true if a scheduler added a new earliest timer since the core last looked} Volatile: the idle re-check. */
    boolean rearmed() {
        return rearm;
    }

    /** {@return true if the core must run {@link #runDue} now} Owner only; reads the clock only while a timer is armed. */
    boolean due() {
        return rearm || (armed && timeline.nanoTime() - nextDue >= 0);
    }

    /** {@return when the earliest armed timer is due, or {@link IdleLoop#NO_DEADLINE}} Owner only. */
    long deadline() {
        return !armed ? IdleLoop.NO_DEADLINE : nextDue == IdleLoop.NO_DEADLINE ? nextDue + 1 : nextDue;
    }

    /**
     * Runs every timer due by now, earliest first, each followed by {@code afterEach} (the task
     * repairs); re-arms periodic ones. Owner only.
     *
     * @param afterEach run on the core after each timer's task
     */
    void runDue(final Runnable afterEach) {
        final long now = timeline.nanoTime();
        for (;;) {
            CoreTimer t;
            synchronized (this) {
                rearm = false; // before the peek: a timer added after it sets it again
                t = heap.peek();
                if (t != null && now - t.due >= 0) {
                    heap.poll();
                    running = t; // under the lock closeAll takes: out of the heap, it is still in its reach
                } else {
                    armed = t != null;
                    nextDue = t == null ? 0 : t.due;
                    return;
                }
            }
            try {
                if (t.claim()) { // a cancelled timer is dropped here
                    if (t.runClaimed(afterEach)) {
                        rearm(t, now);
                    }
                }
            } finally {
                running = null;
            }
        }
    }

    /** Puts a periodic timer back, at its next period after {@code now} (missed periods are skipped, not run in a burst). */
    private void rearm(final CoreTimer t, final long now) {
        final long missed = (now - t.due) / t.periodNanos + 1;
        t.due += missed * t.periodNanos;
        synchronized (this) {
            if (!closed) {
                heap.add(t); // a cancel between runClaimed and here leaves it cancelled in the heap: claim() drops it
                return;
            }
        }
        t.cancelAtShutdown(closedWhy());
    }

    private MachineClosedException closedWhy() {
        return new MachineClosedException("core " + cpu + " stopped before the timer ran");
    }

    /**
     * Closes the queue (later schedules are refused) and cancels every timer in it: shutdown, after
     * the core stopped or was given up on. Any thread.
     *
     * @return how many timers it cancelled
     */
    int closeAll() {
        final CoreTimer[] left;
        final CoreTimer now;
        synchronized (this) {
            closed = true;
            left = heap.toArray(new CoreTimer[0]);
            heap.clear();
            now = running;
        }
        int n = 0;
        final MachineClosedException why = closedWhy();
        for (final CoreTimer t : left) {
            n += t.cancelAtShutdown(why) ? 1 : 0;
        }
        if (now != null && now.isPeriodic()) {
            // A periodic timer stuck in its run (its core given up on) would never run again: its
            // future fails now, and the run's end, finding it cancelled, does not put it back. A
            // one-shot timer stuck in its run completes when the run does, as a stuck task's future.
            n += now.cancelAtShutdown(why) ? 1 : 0;
        }
        return n;
    }
}
