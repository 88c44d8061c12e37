package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.await;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.OverflowPolicy;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 1's probes of the call protocols where they meet each other and the broadcast shapes:
 * compositions that held, kept for coverage (the findings are in {@link Review1Test}).
 * The watchdog is 30 s throughout, so nothing here returns by the watchdog's terms by accident.
 */
@Timeout(60)
class Review1ProbeTest {
    static final Duration WATCHDOG = Duration.ofSeconds(30);

    static SmpCall install(final Machine m) {
        return SmpCall.install(m, WATCHDOG, Broadcast.flat());
    }

    /** Waited calls without a deadline: once they return, each core drained what was queued before. */
    static void drain(final SmpCall smp, final int... cpus) {
        for (final int cpu : cpus) {
            smp.layer().run(cpu, c -> { });
        }
    }

    // =====================================================================================
    // Probes that held
    // =====================================================================================

    /**
     * Probe (held): CallWait.await's {@code nanoTime() + 2 * watchdogNanos} wraps for a watchdog
     * above Long.MAX_VALUE / 2 ns, but the re-send point is {@code end - watchdog}, i.e. now + w
     * modulo 2^64, far in the future, so the wait is not cut short.
     */
    @Test
    void aLongWatchdogDoesNotMakeEveryWaitTimeOutAtOnce() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = SmpCall.builder(m).watchdog(Duration.ofNanos(Long.MAX_VALUE / 2 + 1)).install();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> caller = CompletableFuture.supplyAsync(
                () -> catchThrowable(() -> smp.run(1, c -> { })));
            final Throwable early = catchThrowable(() -> caller.get(500, TimeUnit.MILLISECONDS));
            deaf.close();
            final Throwable t = caller.get(10, TimeUnit.SECONDS);
            assertThat(t).as("the wait lasts while the core is deaf, then the call returns").isNull();
            assertThat(early).isInstanceOf(java.util.concurrent.TimeoutException.class);
        }
    }

    /** Serial broadcast, the forwarding target stuck running at the deadline: the ones after it are cancelled and never run. */
    @RepeatedTest(3)
    void aSerialCallsStuckForwarderLeavesTheRestCancelledNeverRun() throws Exception {
        try (Machine m = SmpCallTest.machine(4)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(200));
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicIntegerArray ran = new AtomicIntegerArray(4);
            final Throwable t = catchThrowable(() -> smp.run(CpuSet.of(1, 2, 3), null, cpu -> {
                if (cpu == 1) {
                    await(release);
                }
                ran.incrementAndGet(cpu);
            }, Broadcast.serial()));
            assertThat(t).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.running()).isEqualTo(CpuSet.of(1));
                assertThat(e.cancelled()).isEqualTo(CpuSet.of(2, 3));
                assertThat(e.ran()).isEqualTo(CpuSet.empty());
                assertThat(e.cpus()).isEqualTo(CpuSet.of(1, 2, 3));
            });
            release.countDown();
            drain(smp, 1, 2, 3);
            assertThat(ran.get(1)).isEqualTo(1);
            assertThat(ran.get(2)).as("a cancelled share is passed on late but never runs").isZero();
            assertThat(ran.get(3)).isZero();
            smp.run(CpuSet.of(1, 2, 3), null, ran::incrementAndGet, Broadcast.serial()); // the caller's next call is clean
            assertThat(ran.get(2)).isEqualTo(1);
            assertThat(ran.get(3)).isEqualTo(1);
        }
    }

    /** Tree of fan-out 2 over cores 1..4: core 1 (which forwards to 3 and 4) deaf at the deadline; its subtree is cancelled with it. */
    @RepeatedTest(3)
    void aTreesDeafForwarderTakesItsSubtreeWithItIntoCancelled() throws Exception {
        try (Machine m = SmpCallTest.machine(5)) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(200));
            final AtomicIntegerArray ran = new AtomicIntegerArray(5);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final Throwable t = catchThrowable(() -> smp.run(CpuSet.of(1, 2, 3, 4), null, ran::incrementAndGet,
                Broadcast.tree(2)));
            assertThat(t).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.ran()).isEqualTo(CpuSet.of(2));
                assertThat(e.cancelled()).isEqualTo(CpuSet.of(1, 3, 4));
                assertThat(e.running()).isEqualTo(CpuSet.empty());
            });
            deaf.close();
            drain(smp, 1, 2, 3, 4);
            assertThat(ran.get(1) + ran.get(3) + ran.get(4)).isZero();
        }
    }

    /**
     * Async serial call under capacity 1 (FAIL), cancelled while its first target is stuck
     * running: the rest are cancelled, the future completes once the first finishes, and every
     * core's slot comes back (a new call to each is accepted).
     */
    @RepeatedTest(3)
    void aCancelledSerialCallGivesEverySlotBack() throws Exception {
        try (Machine m = SmpCallTest.machine(4)) {
            final SmpCall smp = SmpCall.builder(m).watchdog(WATCHDOG).queueCapacity(1, OverflowPolicy.FAIL).install();
            final CountDownLatch started = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicIntegerArray ran = new AtomicIntegerArray(4);
            final CallCompletion<Void> f = smp.runAsync(CpuSet.of(1, 2, 3), null, cpu -> {
                if (cpu == 1) {
                    started.countDown();
                    await(release);
                }
                ran.incrementAndGet(cpu);
            }, Broadcast.serial());
            await(started);
            assertThat(f.cancel()).isEqualTo(CpuSet.of(2, 3));
            assertThat(f.isDone()).as("the started target still runs").isFalse();
            release.countDown();
            assertThat(catchThrowable(() -> f.get(10, TimeUnit.SECONDS))).cause()
                .isInstanceOfSatisfying(CallCancelledException.class, e -> {
                    assertThat(e.ran()).isEqualTo(CpuSet.of(1));
                    assertThat(e.cancelled()).isEqualTo(CpuSet.of(2, 3));
                });
            drain(smp, 1, 2, 3);
            for (int cpu = 1; cpu <= 3; cpu++) {
                smp.runAsync(cpu, c -> { }).get(10, TimeUnit.SECONDS);
            }
            assertThat(ran.get(2) + ran.get(3)).isZero();
        }
    }

    /** A waited call with a deadline to a core stuck in the function, the machine shut down meanwhile: MachineClosedException only. */
    @RepeatedTest(3)
    void aDeadlineEndingAWaitOnAClosedMachineThrowsMachineClosedOnly() throws Exception {
        final Machine m = SmpCallTest.machine(2);
        final SmpCall smp = install(m).withDeadline(Duration.ofMillis(300));
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Throwable> caller = CompletableFuture.supplyAsync(() -> catchThrowable(
            () -> smp.run(1, c -> {
                started.countDown();
                await(release);
            })));
        await(started);
        m.shutdown(Duration.ofMillis(50));
        final Throwable t = caller.get(20, TimeUnit.SECONDS);
        release.countDown();
        assertThat(t).isInstanceOf(org.ipi4j.interrupts.MachineClosedException.class)
            .hasCauseInstanceOf(CallTimeoutException.class);
    }

    /** Two cores flooding each other with async calls under capacity 1 (BLOCK): each drains the other while it waits for room. */
    @RepeatedTest(3)
    void twoCoresFloodingEachOtherUnderBlockDoNotDeadlock() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = SmpCall.builder(m).watchdog(WATCHDOG).queueCapacity(1, OverflowPolicy.BLOCK).install();
            final AtomicIntegerArray ran = new AtomicIntegerArray(2);
            final CompletableFuture<?> a = m.core(0).submit(() -> {
                for (int i = 0; i < 300; i++) {
                    smp.runAsync(1, ran::incrementAndGet);
                }
            });
            final CompletableFuture<?> b = m.core(1).submit(() -> {
                for (int i = 0; i < 300; i++) {
                    smp.runAsync(0, ran::incrementAndGet);
                }
            });
            a.get(30, TimeUnit.SECONDS);
            b.get(30, TimeUnit.SECONDS);
            drain(smp, 0, 1);
            assertThat(ran.get(0)).isEqualTo(300);
            assertThat(ran.get(1)).isEqualTo(300);
        }
    }

    /** Continuations on the core that completes the source (a local call in its handler) and on the caller's own core. */
    @RepeatedTest(3)
    void aContinuationOnTheCompletingCoreOrTheCallersCoreCompletes() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall rpc = install(m).withDeadline(Duration.ofSeconds(10));
            final CallCompletion<Integer> onSource = rpc.callAsync(1, c -> c * 10).thenApplyOn(1, v -> v + 1);
            assertThat(onSource.get(10, TimeUnit.SECONDS)).isEqualTo(11);
            final CallCompletion<Integer> onCaller = m.core(0).submit(
                () -> rpc.callAsync(1, c -> c * 10).thenApplyOn(0, v -> v + 2)).get(10, TimeUnit.SECONDS);
            assertThat(onCaller.get(10, TimeUnit.SECONDS)).isEqualTo(12);
            final CallCompletion<Integer> local = m.core(0).submit(
                () -> rpc.callAsync(0, c -> 5).thenApplyOn(0, v -> v + 3)).get(10, TimeUnit.SECONDS);
            assertThat(local.get(10, TimeUnit.SECONDS)).isEqualTo(8);
        }
    }

    /**
     * Topology broadcast over 2 sockets of 2 complexes of 2 cores (cores 0..7), called from core 0
     * to cores 1..7: core 4 leads socket 1 and forwards to 5 (its complex) and 6 (the other
     * complex's first, which forwards to 7). Core 4 deaf at the deadline: 4, 5, 6, 7 cancelled.
     */
    @RepeatedTest(3)
    void aTopologyCallsDeafSocketLeaderTakesItsSocketIntoCancelled() throws Exception {
        try (Machine m = Machine.builder().cores(8).topology(org.ipi4j.interrupts.Topology.of(2, 2))
            .idlePolicy(org.ipi4j.idle.IdlePolicy.park()).pinning(org.ipi4j.Pinning.NONE).build().start()) {
            final SmpCall smp = install(m).withDeadline(Duration.ofMillis(200));
            final AtomicIntegerArray ran = new AtomicIntegerArray(8);
            final IrqOffHold deaf = holdInterruptsOff(m.core(4));
            final Throwable t = catchThrowable(() -> m.core(0).submit(() -> smp.run(CpuSet.of(1, 2, 3, 4, 5, 6, 7), null,
                ran::incrementAndGet, Broadcast.topology())).get(20, TimeUnit.SECONDS));
            assertThat(t).cause().isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.ran()).isEqualTo(CpuSet.of(1, 2, 3));
                assertThat(e.cancelled()).isEqualTo(CpuSet.of(4, 5, 6, 7));
                assertThat(e.running()).isEqualTo(CpuSet.empty());
            });
            deaf.close();
            drain(smp, 4, 5, 6, 7);
            for (int cpu = 4; cpu < 8; cpu++) {
                assertThat(ran.get(cpu)).as("core %d was cancelled", cpu).isZero();
            }
        }
    }

    /** An async call with a deadline to a core stuck in the function, the machine shut down: the future still completes, MachineClosed only. */
    @RepeatedTest(3)
    void aTimedAsyncCallToAStuckCoreCompletesAfterShutdownWithMachineClosedOnly() throws Exception {
        final Machine m = SmpCallTest.machine(2);
        final SmpCall smp = install(m).withDeadline(Duration.ofMillis(300));
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final CallCompletion<Void> f = smp.runAsync(1, c -> {
            started.countDown();
            await(release);
        });
        await(started);
        m.shutdown(Duration.ofMillis(50));
        final Throwable t = catchThrowable(() -> f.get(20, TimeUnit.SECONDS));
        release.countDown();
        assertThat(t).cause().isInstanceOf(org.ipi4j.interrupts.MachineClosedException.class)
            .hasCauseInstanceOf(CallTimeoutException.class);
    }

    /** The deadline timer thread is gone soon after a closed machine's timed async calls all completed. */
    @Test
    void theDeadlineThreadDoesNotOutliveTheMachineWhenNothingIsPending() throws Exception {
        final String name = "review1-timer";
        try (Machine m = Machine.builder().name(name).cores(2).idlePolicy(org.ipi4j.idle.IdlePolicy.park())
            .pinning(org.ipi4j.Pinning.NONE).build().start()) {
            final SmpCall rpc = install(m).withDeadline(Duration.ofSeconds(10));
            for (int i = 0; i < 10; i++) {
                rpc.callAsync(1, c -> c).get(10, TimeUnit.SECONDS);
            }
        }
        final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (timerThreadAlive(name) && System.nanoTime() < end) {
            Thread.sleep(20); // a bounded poll for a condition (the thread's end), not a stand-in for one
        }
        assertThat(timerThreadAlive(name)).isFalse();
    }

    private static boolean timerThreadAlive(final String machine) {
        return Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.isAlive() && t.getName().equals("ipi4j-" + machine + "-call-deadlines"));
    }
}
