package org.ipi4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.UndeliveredInterrupt;

/**
 * The part of a machine's orderly shutdown that comes after its interrupt controller closed (so
 * that nothing new is queued anywhere): ask every core to stop, wait for each until the deadline,
 * collect what the stopped ones left, fail every task still queued, cancel every timer not yet run,
 * and run the shutdown hooks.
 * Runs once, on the thread that shuts the machine down, under the machine's lock.
 */
final class ShutdownSequence {
    private ShutdownSequence() {
    }

    /**
     * Stops {@code cores} (if they were started) and reports what they could not finish.
     *
     * @param machine the machine's name, for the failed tasks' exception
     * @param cores every core of the machine, by id
     * @param started whether the cores' threads were started
     * @param deadline when to stop waiting, on {@link System#nanoTime()}
     * @param inFlight the senders the closing controller reported still inside a send
     * @return the report
     */
    static ShutdownReport stopCores(final String machine, final Core[] cores, final boolean started,
                                    final long deadline, final List<String> inFlight) {
        final List<String> stuck = new ArrayList<>();
        final boolean[] stopped = new boolean[cores.length];
        if (started) {
            for (final Core core : cores) {
                core.runtime().requestStop();
            }
            for (final Core core : cores) {
                try {
                    stopped[core.id()] = core.runtime().thread.join(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (!stopped[core.id()]) {
                    stuck.add(core.describe() + "\n" + stack(core));
                }
            }
        } else {
            Arrays.fill(stopped, true);
        }
        final List<UndeliveredInterrupt> undelivered = new ArrayList<>();
        int rejected = 0;
        final MachineClosedException why = new MachineClosedException("machine " + machine + " shut down before the task ran");
        for (final Core core : cores) {
            if (stopped[core.id()]) {
                undelivered.addAll(core.runtime().leftovers()); // a stuck core still owns its mailboxes
            }
            rejected += core.runtime().rejectQueued(why); // a stuck core's queued tasks too: it may never take them
            core.runtime().cancelTimers(); // shutdown does not wait for timers: their futures fail
        }
        return new ShutdownReport(List.copyOf(undelivered), rejected, List.copyOf(stuck), List.copyOf(inFlight));
    }

    /** Runs every hook in turn, each given the time left until {@code deadline}; one that throws is recorded and the next runs. */
    static void runStopHooks(final List<Consumer<Duration>> hooks, final long deadline, final OopsLog oopses) {
        for (final Consumer<Duration> hook : hooks) {
            try {
                hook.accept(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            } catch (RuntimeException | Error e) {
                oopses.record(-1, null, "before-shutdown hook threw", e, List.of());
            }
        }
    }

    /** Runs every hook in turn; one that throws is recorded in {@code oopses} (off the cores) and the next runs. */
    static void runHooks(final List<Runnable> hooks, final OopsLog oopses) {
        for (final Runnable hook : hooks) {
            try {
                hook.run();
            } catch (RuntimeException | Error e) {
                oopses.record(-1, null, "shutdown hook threw", e, List.of());
            }
        }
    }

    private static String stack(final Core core) {
        final StringBuilder sb = new StringBuilder();
        for (final StackTraceElement e : core.stackTrace()) {
            sb.append("    at ").append(e).append('\n');
        }
        return sb.toString();
    }
}
