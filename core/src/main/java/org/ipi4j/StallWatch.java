package org.ipi4j;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.ipi4j.observability.CoreStall;
import org.ipi4j.observability.CoreStalledEvent;

/**
 * The machine's stall watch, as Vert.x's {@code BlockedThreadChecker}: one daemon thread that
 * samples every core's boundary count ({@code CoreRuntime.progress()}, a release store at each
 * instruction boundary, so the cores pay no clock read) a few times per threshold. A core that is
 * running and whose count has not moved for the threshold is stalled; it is reported once, with
 * its stack (to the listener, as a JFR event, in its {@code CoreStats.stalls()}), and again only
 * after its count moved or it went idle, parked or preempted in between.
 *
 * <p>It measures real time on the host's clock: a simulated machine has none to watch, and does
 * not start one. Thread-safety: {@link #start()} and {@link #stop()} belong to the machine (under
 * its lock); everything else runs on the watch's own thread. A stall's duration is a lower bound:
 * the count may have stopped up to one sampling period before it was first seen standing.
 */
final class StallWatch {
    private final Core[] cores;
    private final long thresholdNanos;
    private final long periodNanos;
    /** Called on the watch's thread for each stall; null for none. */
    private final Consumer<CoreStall> listener;
    private final OopsLog oopses;
    private final Thread thread;
    private volatile boolean stopped; // partner: run()'s read after each park; stop() then unparks
    // ---- the watch's thread only -------------------------------------------------------
    private final long[] seen;
    private final long[] since;
    private final boolean[] reported;

    StallWatch(final String machine, final Core[] cores, final long thresholdNanos, final Consumer<CoreStall> listener,
               final OopsLog oopses) {
        this.cores = cores;
        this.thresholdNanos = thresholdNanos;
        this.periodNanos = Math.max(thresholdNanos / 4, TimeUnit.MICROSECONDS.toNanos(250));
        this.listener = listener;
        this.oopses = oopses;
        this.seen = new long[cores.length];
        this.since = new long[cores.length];
        this.reported = new boolean[cores.length];
        Arrays.fill(seen, -1);
        this.thread = new Thread(this::run, machine + "-stall-watch");
        thread.setDaemon(true); // it must not keep the JVM alive
    }

    void start() {
        thread.start();
    }

    /** Ends the watch and waits briefly for its thread (it is between samples, or in a listener). */
    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.NANOSECONDS.toMillis(periodNanos) + 100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (!stopped) {
            sample(System.nanoTime());
            LockSupport.parkNanos(this, periodNanos); // real time: it watches the host's threads
        }
    }

    /** One look at every core at {@code now}. */
    private void sample(final long now) {
        for (int i = 0; i < cores.length; i++) {
            final Core core = cores[i];
            final long p = core.runtime().progress(); // acquire load; partner: the core's release store
            if (p != seen[i] || core.state() != Core.State.RUNNING) {
                seen[i] = p;
                since[i] = now;
                reported[i] = false; // a new stall, if one comes, is reported again
            } else if (!reported[i] && now - since[i] >= thresholdNanos) {
                reported[i] = true;
                report(core, now - since[i]);
            }
        }
    }

    private void report(final Core core, final long nanos) {
        final CoreStall stall = new CoreStall(core.id(), nanos, core.describe(), List.of(core.stackTrace()));
        core.runtime().stalled();
        CoreStalledEvent.emit(stall);
        if (listener != null) {
            try {
                listener.accept(stall);
            } catch (RuntimeException | Error e) {
                oopses.record(core.id(), null, "stall listener threw", e, List.of()); // the watch goes on
            }
        }
    }
}
