package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.sim.Simulation;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Per-core timers ({@link Core#schedule}, {@link Core#schedulePeriodic}, {@link CoreTimer}): every promise of CoreTimer's Javadoc. */
@Timeout(60)
class CoreTimerTest {
    private static Machine parked(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start();
    }

    @RepeatedTest(3)
    void aTimerRunsOnItsCoreNotBeforeItsDelayAndWakesAParkedCore() throws Exception {
        try (Machine m = parked(2)) {
            final AtomicLong ranAt = new AtomicLong();
            final AtomicInteger ranOn = new AtomicInteger(-1);
            final long scheduledAt = m.timeline().nanoTime();
            final CoreTimer t = m.core(1).schedule(Duration.ofMillis(20), () -> {
                ranAt.set(m.timeline().nanoTime());
                ranOn.set(Core.current().id());
            });
            assertThat(t.get(10, TimeUnit.SECONDS)).isNull(); // core 1 was parked with nothing else to do
            assertThat(ranOn.get()).isEqualTo(1);
            assertThat(ranAt.get() - scheduledAt).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(20));
            assertThat(t.cancel()).as("a timer that ran cannot be cancelled").isFalse();
            assertThat(m.core(1).stats().tasks()).as("a run counts as a task").isEqualTo(1);
        }
    }

    @Test
    void timersRunInDueOrderAndAnEarlierOneScheduledLaterOvertakes() throws Exception {
        try (Machine m = parked(1)) {
            final StringBuffer order = new StringBuffer();
            final CoreTimer late = m.core(0).schedule(Duration.ofMillis(200), () -> order.append('L'));
            final CoreTimer early = m.core(0).schedule(Duration.ofMillis(10), () -> order.append('E'));
            late.get(10, TimeUnit.SECONDS);
            assertThat(early).isDone();
            assertThat(order).hasToString("EL");
        }
    }

    @Test
    void aTimerScheduledFromItsOwnCoreRuns() throws Exception {
        try (Machine m = parked(1)) {
            final CountDownLatch ran = new CountDownLatch(1);
            m.core(0).submit(() -> m.core(0).schedule(Duration.ZERO, ran::countDown)).get(10, TimeUnit.SECONDS);
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aTimerMayWaitForACrossCoreCallAndScheduleAnotherTimer() throws Exception {
        try (Machine m = parked(2)) {
            final SmpCall smp = SmpCall.install(m);
            final AtomicInteger answer = new AtomicInteger();
            final CountDownLatch second = new CountDownLatch(1);
            m.core(0).schedule(Duration.ZERO, () -> {
                final int a = smp.call(1, cpu -> cpu + 41); // a timer runs like a task: it may wait, taking interrupts
                answer.set(a);
                m.core(0).schedule(Duration.ofMillis(1), second::countDown);
            }).get(10, TimeUnit.SECONDS);
            assertThat(answer).hasValue(42);
            assertThat(second.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aCancelledTimerNeverRunsAndItsFutureSaysCancelled() throws Exception {
        try (Machine m = parked(1)) {
            final AtomicInteger runs = new AtomicInteger();
            final CoreTimer t = m.core(0).schedule(Duration.ofMillis(50), runs::incrementAndGet);
            assertThat(t.cancel()).isTrue();
            assertThat(t.cancel()).as("only once").isFalse();
            assertThat(t.isCancelled()).isTrue();
            // A later timer on the same core ran: the cancelled one, due earlier, would have run before it.
            m.core(0).schedule(Duration.ofMillis(100), () -> { }).get(10, TimeUnit.SECONDS);
            assertThat(runs).hasValue(0);
        }
    }

    @RepeatedTest(3)
    void aPeriodicTimerRunsUntilCancelledAndNeverAfter() throws Exception {
        try (Machine m = parked(2)) {
            final AtomicInteger runs = new AtomicInteger();
            final CountDownLatch three = new CountDownLatch(3);
            final CoreTimer t = m.core(1).schedulePeriodic(Duration.ZERO, Duration.ofMillis(2), () -> {
                runs.incrementAndGet();
                three.countDown();
            });
            assertThat(three.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(t.isPeriodic()).isTrue();
            assertThat(t.cancel()).isTrue();
            final int atCancel = runs.get(); // a run in progress when cancel won may still finish: at most one more
            m.core(1).schedule(Duration.ofMillis(20), () -> { }).get(10, TimeUnit.SECONDS); // 10 periods later
            assertThat(runs.get()).isBetween(atCancel, atCancel + 1);
            assertThatThrownBy(t::join).isInstanceOf(CancellationException.class);
        }
    }

    @Test
    void aTimerThatThrowsFailsItsFutureAndAPeriodicOneStops() throws Exception {
        try (Machine m = parked(1)) {
            final CoreTimer once = m.core(0).schedule(Duration.ZERO, () -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(() -> once.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("boom");
            final AtomicInteger runs = new AtomicInteger();
            final CoreTimer every = m.core(0).schedulePeriodic(Duration.ZERO, Duration.ofMillis(1), () -> {
                runs.incrementAndGet();
                throw new IllegalStateException("once");
            });
            assertThatThrownBy(() -> every.get(10, TimeUnit.SECONDS)).hasRootCauseMessage("once");
            m.core(0).schedule(Duration.ofMillis(20), () -> { }).get(10, TimeUnit.SECONDS);
            assertThat(runs).hasValue(1);
            assertThat(m.oopsRecorded()).as("a timer's failure goes to its future, not the oops log").isZero();
        }
    }

    @Test
    void shutdownCancelsTimersNotYetRunAndRefusesNewOnes() throws Exception {
        final Machine m = parked(2);
        final CoreTimer far = m.core(0).schedule(Duration.ofHours(1), () -> { });
        final CoreTimer every = m.core(1).schedulePeriodic(Duration.ofHours(1), Duration.ofHours(1), () -> { });
        assertThat(m.shutdown(Duration.ofSeconds(10)).isClean()).isTrue();
        assertThatThrownBy(() -> far.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> every.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> m.core(0).schedule(Duration.ZERO, () -> { })).isInstanceOf(MachineClosedException.class);
    }

    @Test
    void aTimerOnACoreStuckAtShutdownStillCompletes() throws Exception {
        final Machine m = parked(2);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        final CompletableFuture<Void> task = m.core(1).submit(() -> {
            stuck.countDown();
            release.await(); // never takes its timers while the machine shuts down
            return null;
        });
        assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
        final CoreTimer t = m.core(1).schedule(Duration.ZERO, () -> { });
        try {
            assertThat(m.shutdown(Duration.ofMillis(200)).stuckCores()).hasSize(1);
            assertThatThrownBy(() -> t.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
        } finally {
            release.countDown();
        }
        task.get(10, TimeUnit.SECONDS);
    }

    @Test
    void badArgumentsAreNamedAndNothingIsScheduled() {
        try (Machine m = parked(1)) {
            final Core c = m.core(0);
            assertThatThrownBy(() -> c.schedule(Duration.ofMillis(-1), () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("delay");
            assertThatThrownBy(() -> c.schedulePeriodic(Duration.ZERO, Duration.ZERO, () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("period");
            assertThatThrownBy(() -> c.schedulePeriodic(Duration.ofMillis(-5), Duration.ofMillis(1), () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initialDelay");
            assertThatThrownBy(() -> c.schedule(null, () -> { })).isInstanceOf(NullPointerException.class).hasMessage("delay");
            assertThatThrownBy(() -> c.schedule(Duration.ZERO, null)).isInstanceOf(NullPointerException.class).hasMessage("task");
        }
    }

    @Test
    void inASimulationATimerFiresInVirtualTimeNotBeforeItsDelay() throws Exception {
        final Simulation sim = Simulation.builder().seed(7).build();
        try (Machine m = Machine.builder().cores(2).simulation(sim).build().start()) {
            final long[] times = sim.run(() -> {
                final long t0 = sim.nanoTime();
                final AtomicLong at = new AtomicLong();
                sim.await(m.core(1).schedule(Duration.ofSeconds(30), () -> at.set(sim.nanoTime())));
                return new long[] {t0, at.get()};
            });
            assertThat(times[1] - times[0]).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(30));
        }
    }
}
