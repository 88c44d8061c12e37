package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;

import org.ipi4j.Machine;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Review 1: an async call's deadline in a simulated machine. It fired on the layer's host-time
 * timer thread, outside the simulation's schedule, and most runs failed as a deadlock (the
 * timer thread's wake-up of the simulated waiter was refused by {@code Simulation.unpark}). Such a
 * call is now refused before anything is sent; a waited call's deadline, in virtual time, stays.
 */
@Timeout(60)
class Review1SimTest {
    @RepeatedTest(5)
    void anAsyncDeadlineInASimulatedMachineIsRefusedBeforeAnythingIsSent(final RepetitionInfo info) throws Exception {
        final Simulation sim = Simulation.builder().seed(info.getCurrentRepetition()).build();
        final Machine m = Machine.builder().name("review1-sim-" + info.getCurrentRepetition()).cores(2).simulation(sim).build().start();
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(1), Broadcast.flat());
            final SmpCall timed = smp.withDeadline(Duration.ofMillis(1));
            final java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
            final Throwable[] refused = new Throwable[2];
            final Object[] waited = new Object[1];
            final Throwable run = catchThrowable(() -> sim.run(() -> {
                refused[0] = catchThrowable(() -> timed.runAsync(1, cpu -> ran.incrementAndGet()));
                refused[1] = catchThrowable(() -> timed.onOtherCoresAsync(cpu -> ran.incrementAndGet()));
                waited[0] = timed.call(1, cpu -> cpu); // a waited call's deadline is virtual time: it stays
                return null;
            }));
            assertThat(run).isNull();
            for (final Throwable t : refused) {
                assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining("simulated")
                    .hasMessageContaining("waited call");
            }
            assertThat(ran.get()).as("nothing was sent").isZero();
            assertThat(waited[0]).isEqualTo(1);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
    }
}
