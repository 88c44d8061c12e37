package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 1: an async call's deadline in a simulated machine.
 *
 * <p>FINDING: the deadline fires on the layer's host-time timer thread (CallTimer), outside the
 * simulation's schedule. CALLS.md calls this a limit of determinism; it is worse: the timer thread
 * completes the future, whose waiter (here {@code sim.await}) is woken through
 * {@code Simulation.unpark}, which throws IllegalStateException ("woke ... from outside
 * simulation's run") when another party holds the baton, so the waiter is never woken and the
 * run fails as a deadlock (or stalls), although the call did end at its deadline. A simulated
 * machine should either fire async deadlines from the simulation's own timers or refuse them.
 */
@Timeout(60)
class Review1SimTest {
    @Tag("review-finding")
    @Test
    void anAsyncDeadlineInASimulatedMachineCompletesTheAwaitedFuture() throws Exception {
        final Simulation sim = Simulation.builder().seed(1).build();
        final Machine m = Machine.builder().name("review1-sim").cores(2).simulation(sim).build().start();
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(1), Broadcast.flat());
            final SmpCall timed = smp.withDeadline(Duration.ofMillis(1));
            final Throwable[] outcome = new Throwable[1];
            final String[] completedOn = new String[1];
            final Throwable run = catchThrowable(() -> sim.run(() -> {
                // Core 1 with interrupts off for a long while (virtual and host time): the call waits in its queue.
                final CompletableFuture<?> deaf = m.core(1).submit(() -> {
                    final Core c = Core.current();
                    final boolean flags = c.disableInterrupts();
                    try {
                        for (int i = 0; i < 200_000; i++) {
                            c.checkpoint();
                        }
                    } finally {
                        c.restoreInterrupts(flags);
                    }
                });
                final CompletableFuture<Void> call = timed.runAsync(1, cpu -> { });
                call.whenComplete((v, e) -> completedOn[0] = Thread.currentThread().getName());
                try {
                    sim.await(call);
                } catch (ExecutionException e) {
                    outcome[0] = e.getCause();
                }
                sim.await(deaf);
                return null;
            }));
            assertThat(run).as("the simulation ran to the end (the future was completed on %s)", completedOn[0]).isNull();
            assertThat(outcome[0]).isInstanceOf(CallTimeoutException.class);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
    }
}
