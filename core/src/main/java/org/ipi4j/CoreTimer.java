package org.ipi4j;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.ipi4j.interrupts.MachineClosedException;

/**
 * A task scheduled to run on one core after a delay ({@link Core#schedule}), once or periodically
 * ({@link Core#schedulePeriodic}), and the read-only future of its outcome.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>The task runs on its core's thread, between tasks, like a submitted task (kernel mode,
 *       interrupts enabled); never before its due time on the machine's clock
 *       ({@link Machine#timeline()}); a parked core wakes for it.</li>
 *   <li>It runs at most once per period, and never after {@link #cancel()} returned true.</li>
 *   <li>The future always completes: a one-shot timer with null after its run (or with what the
 *       task threw); a periodic one only exceptionally, with what the task threw (it runs no
 *       more), with {@link CancellationException} after {@link #cancel()}, or with
 *       {@link MachineClosedException} when its core stops at shutdown. Shutdown does not wait
 *       for timers: one not yet run when its core stops is cancelled that way.</li>
 * </ul>
 * Everything the scheduling thread did before {@code schedule} happens-before the first run; each
 * run happens-before the next; the last run happens-before the future completes. Thread-safe:
 * any thread may cancel. The state is one atomic word: a run claims it (SCHEDULED to RUNNING) by
 * the same CAS a cancel would need, so a run and a cancel never both win.
 */
public final class CoreTimer extends ReadOnlyFuture<Void> {
    static final int SCHEDULED = 0;
    static final int RUNNING = 1;
    static final int DONE = 2;
    static final int CANCELLED = 3;

    private final int cpu;
    private final Runnable task;
    /** The period in nanoseconds, or 0 for a one-shot timer. */
    final long periodNanos;
    /** The due time on the machine's clock; written by the scheduler, then only by the owning core (under the queue's lock). */
    long due;
    /** Breaks ties between timers due at the same time: the earlier scheduled runs first. */
    final long sequence;
    private final AtomicInteger state = new AtomicInteger(SCHEDULED);
    /** Takes the timer out of the queue it waits in, so that a cancelled timer holds no memory until its due time. */
    private final Consumer<CoreTimer> dequeue;

    CoreTimer(final int cpu, final Runnable task, final long due, final long periodNanos, final long sequence,
              final Consumer<CoreTimer> dequeue) {
        this.cpu = cpu;
        this.task = task;
        this.due = due;
        this.periodNanos = periodNanos;
        this.sequence = sequence;
        this.dequeue = dequeue;
    }

    /** {@return the core this timer runs on} */
    public int cpu() {
        return cpu;
    }

    /** {@return true for a timer made by {@link Core#schedulePeriodic}} */
    public boolean isPeriodic() {
        return periodNanos != 0;
    }

    /**
     * Stops the timer: a one-shot timer that has not started never runs; a periodic one runs no
     * more after the run in progress, if any. The future completes with
     * {@link CancellationException}. Any thread.
     *
     * @return true if this call stopped it; false if it had already run (one-shot), failed,
     *         been cancelled, or been cancelled by shutdown
     */
    public boolean cancel() {
        for (;;) {
            final int s = state.get();
            if (s == SCHEDULED || (s == RUNNING && periodNanos != 0)) {
                if (state.compareAndSet(s, CANCELLED)) { // partner: claim()'s CAS and rearm()'s
                    if (s == SCHEDULED) {
                        dequeue.accept(this); // not running: it sits in the queue (or is being taken, harmless)
                    }
                    fail(new CancellationException("timer on core " + cpu + " cancelled"));
                    return true;
                }
            } else {
                return false;
            }
        }
    }

    /** Claims the run: true if the owning core may run it now (it was not cancelled). */
    boolean claim() {
        return state.compareAndSet(SCHEDULED, RUNNING);
    }

    /**
     * Runs the task once, on the owning core, after a successful {@link #claim()}; then
     * {@code afterTask} (the core's repairs, recorded before anyone waiting on the future wakes),
     * then completes the future if this was the last run.
     *
     * @param afterTask the core's repairs after a task
     * @return true if a periodic timer is to run again (its state is SCHEDULED again)
     */
    boolean runClaimed(final Runnable afterTask) {
        Throwable failure = null;
        try {
            task.run();
        } catch (Throwable t) {
            failure = t;
        }
        afterTask.run();
        if (failure == null && periodNanos != 0) {
            return state.compareAndSet(RUNNING, SCHEDULED); // fails if cancel() won while it ran
        }
        if (state.compareAndSet(RUNNING, DONE)) { // fails if cancel() or shutdown completed it meanwhile
            if (failure == null) {
                succeed(null);
            } else {
                fail(failure);
            }
        }
        return false;
    }

    /** Cancels it because its core stopped (shutdown); true if this call did. */
    boolean cancelAtShutdown(final MachineClosedException why) {
        for (;;) {
            final int s = state.get();
            if (s == DONE || s == CANCELLED) {
                return false;
            }
            if (state.compareAndSet(s, CANCELLED)) {
                fail(why);
                return true;
            }
        }
    }

    @Override
    public String toString() {
        return "CoreTimer[core " + cpu + (periodNanos != 0 ? ", every " + periodNanos + "ns" : "") + ", "
            + switch (state.get()) {
                case SCHEDULED -> "scheduled";
                case RUNNING -> "running";
                case DONE -> "done";
                default -> "cancelled";
            } + "]";
    }
}
