package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.await;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Deadlines that mean what they say, and {@link CallCompletion#cancel()}: a target that has not
 * started by the deadline never runs the function, one that started is reported running, and
 * every future completes; where they meet a second initiator, the function's start and shutdown.
 * The watchdog is 30 s throughout, so a call that returns at all returned by its deadline, not
 * after two watchdog periods (the test's timeout would fire first).
 */
@Timeout(60)
class DeadlineTest {
    static final Duration WATCHDOG = Duration.ofSeconds(30);

    static SmpCall install(final Machine m) {
        return SmpCall.install(m, WATCHDOG, Broadcast.flat());
    }

    /** A waited call to {@code cpu} without a deadline: once it returns, the core drained what was queued before it. */
    static void drain(final SmpCall smp, final int cpu) {
        smp.layer().run(cpu, c -> { });
    }

    @Test
    void aQueuedCallPastItsDeadlineNeverRunsAndTheCallerSaysSo() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(200));
            final AtomicInteger ran = new AtomicInteger();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final long start = System.nanoTime();
            final Throwable t = catchThrowable(() -> smp.run(1, cpu -> ran.incrementAndGet()));
            final long waited = System.nanoTime() - start;
            assertThat(t).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.cancelled()).isEqualTo(CpuSet.of(1));
                assertThat(e.running()).isEqualTo(CpuSet.empty());
                assertThat(e.ran()).isEqualTo(CpuSet.empty());
                assertThat(e.cpus()).isEqualTo(CpuSet.of(1));
                assertThat(e.waited()).isEqualTo(Duration.ofMillis(200));
                assertThat(e.getMessage()).contains("deadline of 200 ms");
            });
            assertThat(waited).as("returned by its deadline, not two watchdog periods").isLessThan(WATCHDOG.toNanos());
            assertThat(smp.watchdogResends()).as("re-sent once, at half the deadline").isEqualTo(1);
            deaf.close();
            drain(smp, 1);
            assertThat(ran.get()).as("a cancelled target never runs the function").isZero();
        }
    }

    @Test
    void aCoreCallerWaitsOnlyUntilItsDeadlineToo() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(100));
            final AtomicInteger ran = new AtomicInteger();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final Throwable t = catchThrowable(() -> m.core(0).submit(() -> smp.run(1, cpu -> ran.incrementAndGet()))
                .get(20, TimeUnit.SECONDS));
            assertThat(t).isInstanceOf(ExecutionException.class).cause().isInstanceOfSatisfying(CallTimeoutException.class,
                e -> assertThat(e.cancelled()).isEqualTo(CpuSet.of(1)));
            deaf.close();
            drain(smp, 1);
            assertThat(ran.get()).isZero();
        }
    }

    /** A core the host preempted (no PV yield to end it) cannot start the call: cancelled at the deadline, never run. */
    @Test
    void aCallToAPreemptedCoreIsCancelledAtItsDeadline() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).paravirt().build()
            .start()) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(100));
            final AtomicInteger ran = new AtomicInteger();
            m.core(1).preemptUntilResumed();
            org.ipi4j.DeliveryTestSupport.waitUntilPreempted(m.core(1));
            assertThatThrownBy(() -> smp.run(1, cpu -> ran.incrementAndGet()))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> assertThat(e.cancelled()).isEqualTo(CpuSet.of(1)));
            m.core(1).resume();
            drain(smp, 1);
            assertThat(ran.get()).isZero();
        }
    }

    @Test
    void aTargetThatStartedIsReportedRunningWithHowLongAndItsStack() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(200));
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicInteger ran = new AtomicInteger();
            assertThatThrownBy(() -> smp.call(1, cpu -> {
                await(release);
                return ran.incrementAndGet();
            })).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.running()).isEqualTo(CpuSet.of(1));
                assertThat(e.cancelled()).isEqualTo(CpuSet.empty());
                assertThat(e.getMessage()).contains("running the function for").contains("core 1")
                    .contains("CountDownLatch.await");
            });
            release.countDown();
            drain(smp, 1);
            assertThat(ran.get()).as("a target that started finishes, once").isEqualTo(1);
        }
    }

    @Test
    void aMulticastNamesTheCoresThatRanWereCancelledAndStillRun() throws Exception {
        try (Machine m = SmpCallTest.machine(4)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(300));
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicIntegerArray ran = new AtomicIntegerArray(4);
            final IrqOffHold deaf = holdInterruptsOff(m.core(3));
            assertThatThrownBy(() -> smp.run(CpuSet.of(1, 2, 3), cpu -> {
                if (cpu == 2) {
                    await(release);
                }
                ran.incrementAndGet(cpu);
            })).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.ran()).isEqualTo(CpuSet.of(1));
                assertThat(e.running()).isEqualTo(CpuSet.of(2));
                assertThat(e.cancelled()).isEqualTo(CpuSet.of(3));
                assertThat(e.cpus()).isEqualTo(CpuSet.of(2, 3));
            });
            release.countDown();
            drain(smp, 2);
            assertThat(ran.get(2)).as("the running target finished, once").isEqualTo(1);
            deaf.close();
            drain(smp, 3);
            assertThat(ran.get(1)).isEqualTo(1);
            assertThat(ran.get(3)).as("cancelled on core 3: never runs").isZero();
        }
    }

    /**
     * A deadline racing the function's start, from two initiators at once: the function runs
     * exactly 0 or 1 times per call, and the caller's report agrees with what happened.
     */
    @RepeatedTest(3)
    void aDeadlineRacingTheStartRunsAtMostOnceAndTheReportAgrees() throws Exception {
        try (Machine m = SmpCallTest.machine(3)) {
            final SmpCall base = install(m);
            final CompletableFuture<?>[] initiators = new CompletableFuture<?>[2];
            for (int who = 0; who < 2; who++) {
                final long seed = who;
                initiators[who] = CompletableFuture.runAsync(() -> race(base, new SplittableRandom(seed)));
            }
            CompletableFuture.allOf(initiators).get(50, TimeUnit.SECONDS);
        }
    }

    private static void race(final SmpCall base, final SplittableRandom random) {
        for (int i = 0; i < 300; i++) {
            final SmpCall smp = base.withDeadline(Duration.ofNanos(1_000 + random.nextInt(60_000)));
            final int cpu = 1 + random.nextInt(2);
            final AtomicInteger ran = new AtomicInteger();
            final CoreAction once = c -> ran.incrementAndGet();
            Throwable t;
            if (random.nextBoolean()) {
                t = catchThrowable(() -> smp.run(cpu, once));
            } else {
                t = catchThrowable(() -> smp.runAsync(cpu, once).get(10, TimeUnit.SECONDS));
                t = t instanceof ExecutionException ? t.getCause() : t;
            }
            drain(base, cpu); // whatever was queued on the core before this is now taken
            if (t == null) {
                assertThat(ran.get()).as("returned normally: it ran once").isEqualTo(1);
            } else {
                assertThat(t).isInstanceOf(CallTimeoutException.class);
                final CallTimeoutException e = (CallTimeoutException) t;
                if (e.cancelled().contains(cpu)) {
                    assertThat(ran.get()).as("reported cancelled: it never ran").isZero();
                } else {
                    assertThat(e.ran().contains(cpu) || e.running().contains(cpu)).isTrue();
                    assertThat(ran.get()).as("reported ran or running: it ran once").isEqualTo(1);
                }
            }
        }
    }

    @Test
    void anAsyncCallCompletesAtItsDeadlineWithoutAnyoneWaiting() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(100));
            final AtomicInteger ran = new AtomicInteger();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> seen = new CompletableFuture<>();
            smp.runAsync(1, cpu -> ran.incrementAndGet()).whenComplete((v, e) -> seen.complete(e));
            assertThat(seen.get(20, TimeUnit.SECONDS)).isInstanceOfSatisfying(CallTimeoutException.class,
                e -> assertThat(e.cancelled()).isEqualTo(CpuSet.of(1)));
            deaf.close();
            drain(smp, 1);
            assertThat(ran.get()).isZero();
        }
    }

    @Test
    void cancelRemovesTheTargetsNotStartedAndCompletesWhenTheStartedOnesFinish() throws Exception {
        try (Machine m = SmpCallTest.machine(3)) {
            final SmpCall smp = install(m);
            final CountDownLatch started = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicIntegerArray ran = new AtomicIntegerArray(3);
            final IrqOffHold deaf = holdInterruptsOff(m.core(2));
            final CallCompletion<Void> f = smp.runAsync(CpuSet.of(1, 2), cpu -> {
                if (cpu == 1) {
                    started.countDown();
                    await(release);
                }
                ran.incrementAndGet(cpu);
            });
            await(started);
            assertThat(f.cancel()).isEqualTo(CpuSet.of(2));
            assertThat(f.cancel()).as("nothing left to cancel").isEqualTo(CpuSet.empty());
            assertThat(f).as("core 1 is still running it").isNotDone();
            release.countDown();
            final Throwable t = catchThrowable(() -> f.get(10, TimeUnit.SECONDS));
            assertThat(t).isInstanceOf(ExecutionException.class).cause().isInstanceOfSatisfying(CallCancelledException.class,
                e -> {
                    assertThat(e.ran()).isEqualTo(CpuSet.of(1));
                    assertThat(e.cancelled()).isEqualTo(CpuSet.of(2));
                });
            assertThat(ran.get(1)).as("core 1's writes happen-before the future completes").isEqualTo(1);
            deaf.close();
            drain(smp, 2);
            assertThat(ran.get(2)).isZero();
        }
    }

    /**
     * A core stuck inside the first of three calls it took at once holds the other two; one is
     * cancelled, then the machine shuts down. Shutdown must still reach the third past the
     * cancelled one (the held cursor names the cancelled node for ever), so every future completes.
     */
    @RepeatedTest(3)
    void cancelRacingShutdownLeavesNoFutureIncomplete() throws Exception {
        final Machine m = SmpCallTest.machine(2);
        final SmpCall smp = install(m);
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicIntegerArray ran = new AtomicIntegerArray(3);
        final IrqOffHold deaf = holdInterruptsOff(m.core(1));
        final CallCompletion<Void> a = smp.runAsync(1, cpu -> {
            started.countDown();
            await(release);
            ran.incrementAndGet(0);
        });
        final CallCompletion<Void> b = smp.runAsync(1, cpu -> ran.incrementAndGet(1));
        final CallCompletion<Void> c = smp.runAsync(1, cpu -> ran.incrementAndGet(2));
        deaf.release();
        await(started);
        final CompletableFuture<CpuSet> cancel = CompletableFuture.supplyAsync(b::cancel);
        assertThat(m.shutdown(Duration.ofMillis(200)).isClean()).as("core 1 is stuck").isFalse();
        final CpuSet cancelled = cancel.get(10, TimeUnit.SECONDS);
        final Throwable tb = catchThrowable(() -> b.get(10, TimeUnit.SECONDS)).getCause();
        if (cancelled.contains(1)) {
            assertThat(tb).isInstanceOf(CallCancelledException.class);
        } else {
            assertThat(tb).as("shutdown claimed it first").isInstanceOf(MachineClosedException.class);
        }
        assertThat(catchThrowable(() -> c.get(10, TimeUnit.SECONDS))).as("reached past the cancelled one")
            .cause().isInstanceOf(MachineClosedException.class);
        release.countDown();
        a.get(10, TimeUnit.SECONDS);
        assertThat(ran.get(1) + ran.get(2)).as("neither held call ever ran").isZero();
    }

    @Test
    void aCallAbandonedAtShutdownThrowsMachineClosedOnly() throws Exception {
        final Machine m = SmpCallTest.machine(3);
        final SmpCall smp = install(m);
        final IrqOffHold deaf = holdInterruptsOff(m.core(1));
        final CompletableFuture<Void> waited = CompletableFuture.runAsync(() -> smp.run(CpuSet.of(1, 2), c -> { }));
        final CallCompletion<Void> async = smp.runAsync(1, c -> { });
        final CallCompletion<Void> timed = smp.withDeadline(Duration.ofSeconds(20)).runAsync(1, c -> { });
        while (smp.ipisSent() + smp.ipisCoalesced() < 4) {
            Thread.onSpinWait(); // the waited call's shares are queued
        }
        m.shutdown(Duration.ofMillis(200));
        deaf.release();
        assertThat(catchThrowable(() -> waited.get(10, TimeUnit.SECONDS))).cause()
            .isInstanceOfSatisfying(MachineClosedException.class, e -> assertThat(e.delivered()).isEqualTo(CpuSet.of(2)));
        assertThat(catchThrowable(() -> async.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(MachineClosedException.class);
        assertThat(catchThrowable(() -> timed.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> smp.run(2, c -> { })).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> smp.runAsync(2, c -> { })).isInstanceOf(MachineClosedException.class);
    }

    @Test
    void badDeadlinesAreRefusedByName() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m);
            assertThatThrownBy(() -> smp.withDeadline(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("deadline");
            assertThatThrownBy(() -> smp.withDeadline(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
            assertThat(smp.deadline()).isNull();
            final SmpCall timed = smp.withDeadline(Duration.ofMillis(5));
            assertThat(timed.deadline()).isEqualTo(Duration.ofMillis(5));
            assertThat(timed.layer()).isSameAs(smp);
            assertThat((int) timed.call(1, cpu -> cpu)).as("a view calls like its layer").isEqualTo(1);
        }
    }
}
