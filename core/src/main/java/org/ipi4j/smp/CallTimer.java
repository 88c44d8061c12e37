package org.ipi4j.smp;

import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Fires the deadlines of async calls, so that their futures complete at the deadline without
 * anyone waiting: one daemon thread per call layer, started with the first timed async call and
 * gone after a second without one. It outlives the machine's shutdown on purpose: a call still
 * running on a stuck core then completes at its deadline all the same. Deadlines are in host
 * time, also for a simulated machine (a simulation's virtual clock does not drive this thread).
 * A completed call cancels its deadline, which the executor then drops. Thread-safe.
 */
final class CallTimer {
    private final ScheduledThreadPoolExecutor executor;

    CallTimer(final String machine) {
        this.executor = new ScheduledThreadPoolExecutor(1, r -> {
            final Thread t = new Thread(r, "ipi4j-" + machine + "-call-deadlines");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(1, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
    }

    /** Runs {@code expire} after {@code nanos}; cancel the returned future to drop it. */
    Future<?> after(final long nanos, final Runnable expire) {
        return executor.schedule(expire, nanos, TimeUnit.NANOSECONDS);
    }
}
