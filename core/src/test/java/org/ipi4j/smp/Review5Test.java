package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.sim.Simulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 5: the outside caller's 50 us spin (CallWait) against the paths that must end. */
class Review5Test {
    /** Virtual-time outcomes of one simulated run: a parked core's call, a deadline's expiry, a watchdog's timeout. */
    private static long[] simulated(final long seed) throws Exception {
        final Simulation sim = Simulation.builder().seed(seed).build();
        try (Machine m = Machine.builder().name("review5-" + seed).cores(2).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(1), Broadcast.flat());
            final long[] out = sim.run(() -> {
                final long t0 = sim.nanoTime();
                smp.run(1, cpu -> { }); // core 1 is parked: one remote wake-up
                final long t1 = sim.nanoTime();
                CallTimeoutException expired = null;
                try {
                    smp.withDeadline(Duration.ofNanos(100_000)).run(1, cpu -> {
                        for (int i = 0; i < 20_000; i++) {
                            Core.current().checkpoint(); // about 400 us of virtual time: past the deadline
                        }
                    });
                } catch (CallTimeoutException e) {
                    expired = e;
                }
                final long t2 = sim.nanoTime();
                CallTimeoutException timedOut = null;
                try {
                    smp.run(1, cpu -> {
                        for (int i = 0; i < 150_000; i++) {
                            Core.current().checkpoint(); // about 3 ms: past two watchdog periods
                        }
                    });
                } catch (CallTimeoutException e) {
                    timedOut = e;
                }
                final long t3 = sim.nanoTime();
                assertThat(expired).as("the deadline expired").isNotNull();
                assertThat(expired.running()).isEqualTo(CpuSet.of(1));
                assertThat(timedOut).as("the watchdog timed out").isNotNull();
                return new long[] {t1 - t0, t2 - t1, t3 - t2, smp.watchdogResends()};
            });
            return new long[] {out[0], out[1], out[2], out[3], sim.trace()};
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void anOutsideCallerInASimulationEndsEveryPathAndReplays() throws Exception {
        final long[] a = simulated(7);
        final long[] b = simulated(7);
        assertThat(b).as("same seed, same outcome").containsExactly(a);
        assertThat(a[0]).as("a parked core's call, virtual ns").isLessThan(50_000);
        assertThat(a[1]).as("deadline of 100 us, virtual ns").isBetween(100_000L, 150_000L);
        assertThat(a[2]).as("two watchdog periods, virtual ns").isBetween(2_000_000L, 2_200_000L);
        assertThat(a[3]).as("the watchdog re-sent both timed calls").isEqualTo(2);
    }

    private static Machine.Builder real(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(org.ipi4j.Pinning.NONE);
    }

    /** PV directed yield: the outside caller spins its 50 us, then resumes the preempted target and is answered. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void anOutsideCallerYieldsToAPreemptedTargetAfterItsSpin() throws Exception {
        try (Machine m = real(2).paravirt(Paravirt.SCHED_YIELD).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.flat());
            m.core(1).preemptUntilResumed();
            awaitTrue(() -> m.core(1).isPreempted());
            final Integer answer = smp.call(1, cpu -> cpu * 10);
            assertThat(answer).isEqualTo(10);
            assertThat(smp.yieldsToPreempted()).isPositive();
        }
    }

    /** A preempted target without PV yield: a deadline shorter than the spin expires and cancels it. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aDeadlineShorterThanTheSpinExpiresOnAPreemptedTarget() throws Exception {
        try (Machine m = real(2).paravirt().build().start()) { // a VM without PV features: a preempted vCPU answers nothing
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.flat());
            m.core(1).preemptUntilResumed();
            awaitTrue(() -> m.core(1).isPreempted());
            assertThatThrownBy(() -> smp.withDeadline(Duration.ofNanos(20_000)).run(CpuSet.of(1), cpu -> { }))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> assertThat(e.cancelled()).isEqualTo(CpuSet.of(1)));
            m.core(1).resume();
            smp.run(1, cpu -> { }); // the cancelled share never ran; the next call is answered
        }
    }

    /** The machine shuts down while an outside caller waits (parked, past its spin) for a preempted target: the caller ends. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aShutdownEndsAnOutsideCallersWait() throws Exception {
        final Machine m = real(2).paravirt().build().start(); // a VM: a preempted vCPU answers nothing
        final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), Broadcast.flat());
        m.core(1).preemptUntilResumed();
        awaitTrue(() -> m.core(1).isPreempted());
        final CountDownLatch calling = new CountDownLatch(1);
        final AtomicReference<Throwable> outcome = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        final Thread caller = new Thread(() -> {
            calling.countDown();
            try {
                smp.run(1, cpu -> { });
            } catch (Throwable t) {
                outcome.set(t);
            }
            done.countDown();
        });
        caller.start();
        assertThat(calling.await(10, TimeUnit.SECONDS)).isTrue();
        final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (caller.getState() != Thread.State.TIMED_WAITING) { // parked: past the 50 us spin
            assertThat(System.nanoTime()).as("caller parks; state %s, outcome %s, stack %s", caller.getState(),
                outcome.get(), java.util.Arrays.toString(caller.getStackTrace())).isLessThan(until);
            Thread.sleep(1);
        }
        final CompletableFuture<Void> shut = CompletableFuture.runAsync(() -> m.shutdown(Duration.ofSeconds(5)));
        assertThat(done.await(8, TimeUnit.SECONDS)).as("the caller ended before its watchdog (20 s)").isTrue();
        shut.get(10, TimeUnit.SECONDS);
        assertThat(outcome.get()).as("the outcome: ran, or refused as closed").satisfiesAnyOf(
            t -> assertThat(t).isNull(),
            t -> assertThat(t).isInstanceOf(org.ipi4j.interrupts.MachineClosedException.class));
    }

    private static void awaitTrue(final java.util.function.BooleanSupplier c) throws InterruptedException {
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition in time").isLessThan(end);
            Thread.sleep(1); // polling a state the core reaches by itself, bounded
        }
    }
}
