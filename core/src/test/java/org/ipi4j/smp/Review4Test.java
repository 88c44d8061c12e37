package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.await;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.Core;
import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Review 4: the waited single-target fast path ({@code CallInitiator.waitedRemote}) beside the
 * general path, case by case. Each test compares what a plain call (fast path) does with what the
 * general path promises; a view with a very long deadline takes the general path for the same
 * call. Tests tagged {@code review-finding} fail on the code they were written against, for the
 * reason their comment states; the untagged ones are probes that held.
 */
@Timeout(120)
class Review4Test {
    static final Duration WATCHDOG = Duration.ofSeconds(30);

    static Machine machine(final int cores, final IdlePolicy idle) {
        return Machine.builder().cores(cores).idlePolicy(idle).pinning(Pinning.NONE).build().start();
    }

    // =====================================================================================
    // Counters
    // =====================================================================================

    /**
     * FINDING (counter order): the general path counts a call's IPI before ringing it
     * ({@code CallDelivery.ringAll}: {@code ipisSent.add(n)}, then the doorbells), so whoever sees
     * the call's effect (the function itself, or anyone it signals) sees it counted. The fast
     * path's {@code CallDelivery.enqueue} counts after {@code send} returned: the target, spinning,
     * may run the function before the caller's increment, and a function reading
     * {@code ipisSent()} sees the call uncounted. Needs a spinning target and some luck with the
     * caller's thread being descheduled between its send and its increment: a race, repeated.
     * Failed before the fix ("expected: 0 but was: 2", within half a second); enqueue now counts
     * before the send (and takes a refused ring back), as ringAll does.
     */
    @Test
    void aFunctionSeesItsOwnIpiCountedOnTheFastPath() throws Exception {
        final int[] lags = lagsSeenByTheFunction(false);
        assertThat(lags[0]).as("calls whose function saw ipisSent not yet counting its own IPI (fast path), of " + lags[1])
            .isZero();
    }

    /** The same on the general path (a deadline view): counted before the doorbell, never seen uncounted. */
    @Test
    void aFunctionSeesItsOwnIpiCountedOnTheGeneralPath() throws Exception {
        final int[] lags = lagsSeenByTheFunction(true);
        assertThat(lags[0]).as("calls whose function saw ipisSent not yet counting its own IPI (general path), of " + lags[1])
            .isZero();
    }

    /** {lagging calls, calls}: sequential calls from an outside thread to a spinning core 1. */
    private static int[] lagsSeenByTheFunction(final boolean general) throws Exception {
        try (Machine m = machine(2, IdlePolicy.spin())) {
            final SmpCall base = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            final SmpCall smp = general ? base.withDeadline(Duration.ofDays(1)) : base;
            int lag = 0;
            int calls = 0;
            final long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < end && lag == 0) {
                for (int i = 0; i < 2_000; i++) {
                    final long before = base.ipisSent();
                    final long seen = smp.call(1, c -> base.ipisSent());
                    calls++;
                    // Every call here finds core 1's queue empty (one caller, calls in sequence): it rings.
                    if (seen < before + 1) {
                        lag++;
                    }
                }
            }
            return new int[] {lag, calls};
        }
    }

    /** Counters on the fast path: one IPI per call to an idle core, no local run, no re-send. */
    @Test
    void theFastPathCountsItsIpisAndNoLocalRuns() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            for (int i = 0; i < 50; i++) {
                assertThat((Object) smp.call(1 + i % 2, c -> c)).isEqualTo(1 + i % 2);
            }
            m.core(0).submit(() -> {
                for (int i = 0; i < 50; i++) {
                    smp.run(1 + i % 2, c -> { });
                }
            }).get(10, TimeUnit.SECONDS);
            assertThat(smp.ipisSent() + smp.ipisCoalesced()).isEqualTo(100);
            assertThat(smp.localRuns()).isZero();
            assertThat(smp.watchdogResends()).isZero();
        }
    }

    // =====================================================================================
    // Deadlock hazard, nesting, failures
    // =====================================================================================

    /**
     * A waited call to another core from a function run locally (interrupts off) is refused before
     * anything is queued: core 1 never runs it; the outer call fails with the refusal; the
     * caller's reusable call is free again and the next call from that core works, many times.
     */
    @RepeatedTest(3)
    void aNestedWaitedCallFromALocalRunIsRefusedBeforeAnythingIsQueued() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            final AtomicInteger ranOn1 = new AtomicInteger();
            m.core(0).submit(() -> {
                final Throwable t = catchThrowable(() -> smp.run(0, c -> smp.run(1, d -> ranOn1.incrementAndGet())));
                assertThat(t).isInstanceOf(SmpCallException.class);
                assertThat(((SmpCallException) t).failures().get(0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("deadlock hazard");
                for (int i = 0; i < 100; i++) {
                    assertThat((Object) smp.call(1, c -> c + 10)).isEqualTo(11);
                }
            }).get(10, TimeUnit.SECONDS);
            final long ipis = smp.ipisSent() + smp.ipisCoalesced();
            assertThat(ranOn1).as("the refused call never ran").hasValue(0);
            assertThat(ipis).as("one IPI or coalesced push per later call, none for the refused one").isEqualTo(100);
        }
    }

    /** From a target's function (a handler): refused, and core 0 (the third core) never runs it; the caller's next calls work. */
    @RepeatedTest(3)
    void aWaitedCallFromInsideAFunctionToAThirdCoreIsRefused() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            final AtomicInteger ranOn2 = new AtomicInteger();
            final Throwable t = catchThrowable(() -> smp.run(1, c -> smp.run(2, d -> ranOn2.incrementAndGet())));
            assertThat(t).isInstanceOf(SmpCallException.class);
            assertThat(((SmpCallException) t).failures()).containsOnlyKeys(1);
            assertThat(((SmpCallException) t).failures().get(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deadlock hazard").hasMessageContaining("core 1");
            assertThat(ranOn2).hasValue(0);
            for (int i = 0; i < 100; i++) {
                assertThat((Object) smp.call(2, c -> c)).isEqualTo(2);
            }
        }
    }

    /** A function that throws: SmpCallException naming the core; the caller's next call works (outside thread and core). */
    @Test
    void aThrowingFunctionFailsTheCallAndTheNextOneWorks() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            for (int i = 0; i < 50; i++) {
                final Throwable t = catchThrowable(() -> smp.call(1, c -> {
                    throw new IllegalArgumentException("boom on " + c);
                }));
                assertThat(t).isInstanceOf(SmpCallException.class);
                assertThat(((SmpCallException) t).failures()).containsOnlyKeys(1);
                assertThat((Object) smp.call(1, c -> "ok")).isEqualTo("ok");
            }
            m.core(0).submit(() -> {
                for (int i = 0; i < 50; i++) {
                    assertThat(catchThrowable(() -> smp.run(1, c -> {
                        throw new IllegalStateException("boom");
                    }))).isInstanceOf(SmpCallException.class);
                    assertThat((Object) smp.call(1, c -> "ok")).isEqualTo("ok");
                }
            }).get(10, TimeUnit.SECONDS);
        }
    }

    // =====================================================================================
    // Bounded queues
    // =====================================================================================

    /**
     * queueCapacity bounds async calls only ("Waited calls take no slot"): a waited call to a full
     * core is not refused, takes no slot, and after it the async room is as it was. Both paths.
     */
    @Test
    void aWaitedCallToAFullCoreTakesNoSlotOnEitherPath() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.builder(m).watchdog(WATCHDOG).queueCapacity(1, OverflowPolicy.FAIL).install();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> occupant = smp.runAsync(1, c -> { }); // holds core 1's one slot
            assertThat(catchThrowable(() -> smp.runAsync(1, c -> { })))
                .isInstanceOf(org.ipi4j.interrupts.MailboxFullException.class);
            final CompletableFuture<Integer> fast = CompletableFuture.supplyAsync(() -> smp.call(1, c -> 1));
            final CompletableFuture<Integer> general = CompletableFuture.supplyAsync(
                () -> smp.withDeadline(Duration.ofDays(1)).call(1, c -> 2));
            deaf.close();
            assertThat(fast.get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(general.get(10, TimeUnit.SECONDS)).isEqualTo(2);
            occupant.get(10, TimeUnit.SECONDS);
            // Every slot given back: two async calls in a row, the second taken while the first may still hold its slot
            // would be refused only if a waited call had kept one.
            smp.runAsync(1, c -> { }).get(10, TimeUnit.SECONDS);
            smp.runAsync(1, c -> { }).get(10, TimeUnit.SECONDS);
        }
    }

    // =====================================================================================
    // Stuck, preempted, shutdown, closed
    // =====================================================================================

    /** A target deaf to interrupts: the fast path re-sends once and times out naming core 1, from an outside thread and from a core. */
    @Test
    void aDeafTargetTimesOutOnTheFastPathAfterOneResend() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(100), Broadcast.flat());
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final AtomicInteger ran = new AtomicInteger();
            final Throwable outside = catchThrowable(() -> smp.run(1, c -> ran.incrementAndGet()));
            final Throwable fromCore = m.core(2).submit(() -> catchThrowable(() -> smp.run(1, c -> ran.incrementAndGet())))
                .get(10, TimeUnit.SECONDS);
            for (final Throwable t : List.of(outside, fromCore)) {
                assertThat(t).isInstanceOf(CallTimeoutException.class).hasMessageContaining("IPI re-sent once");
                assertThat(((CallTimeoutException) t).cpus().contains(1)).isTrue();
            }
            assertThat(smp.watchdogResends()).isEqualTo(2);
            deaf.close(); // the abandoned calls still run, late
            assertThat((Object) smp.call(1, c -> c)).isEqualTo(1);
            m.core(2).submit(() -> assertThat((Object) smp.call(1, c -> c)).isEqualTo(1)).get(10, TimeUnit.SECONDS);
            assertThat(ran).hasValue(2);
        }
    }

    /**
     * A preempted target (the host stopped it): with PV directed yield (the default) the waiting
     * fast-path caller ends the preemption and gets its answer; without it (bare metal) the call
     * times out naming the core, and after resume the next call works. From an outside thread
     * (the clockless first spins) and from a core.
     */
    @Test
    void aPreemptedTargetIsYieldedToOrTimesOutOnTheFastPath() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(100), Broadcast.flat());
            m.core(1).preemptUntilResumed();
            org.ipi4j.DeliveryTestSupport.waitUntilPreempted(m.core(1));
            assertThat((Object) smp.call(1, c -> c)).isEqualTo(1);
            assertThat(smp.yieldsToPreempted()).isEqualTo(1);
            m.core(1).preemptUntilResumed();
            org.ipi4j.DeliveryTestSupport.waitUntilPreempted(m.core(1));
            assertThat((Object) m.core(2).submit(() -> smp.call(1, c -> c)).get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(smp.yieldsToPreempted()).isEqualTo(2);
        }
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).paravirt()
                .build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(100), Broadcast.flat());
            m.core(1).preemptUntilResumed();
            org.ipi4j.DeliveryTestSupport.waitUntilPreempted(m.core(1));
            final Throwable t = catchThrowable(() -> smp.call(1, c -> c));
            assertThat(t).isInstanceOf(CallTimeoutException.class);
            assertThat(((CallTimeoutException) t).cpus().contains(1)).isTrue();
            assertThat(smp.watchdogResends()).isEqualTo(1);
            m.core(1).resume();
            assertThat((Object) smp.call(1, c -> c)).isEqualTo(1);
        }
    }

    /**
     * Shutdown while fast-path calls wait on a deaf core (from an outside thread and from a core):
     * each caller gets MachineClosedException long before the 30 s watchdog, and shutdown returns
     * within its timeout (with slack for a loaded host).
     */
    @RepeatedTest(3)
    void shutdownInTheMiddleOfAFastPathCallFailsItClosed() throws Exception {
        final Machine m = machine(3, IdlePolicy.park());
        final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
        final IrqOffHold deaf = holdInterruptsOff(m.core(1));
        final AtomicInteger ran = new AtomicInteger();
        final CompletableFuture<Throwable> outside = CompletableFuture.supplyAsync(
            () -> catchThrowable(() -> smp.run(1, c -> ran.incrementAndGet())));
        final CompletableFuture<Throwable> fromCore = m.core(2).submit(() -> catchThrowable(() -> smp.run(1, c -> ran.incrementAndGet())));
        final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (smp.ipisSent() + smp.ipisCoalesced() < 2 && System.nanoTime() < until) {
            Thread.onSpinWait(); // both calls queued on core 1
        }
        assertThat(smp.ipisSent() + smp.ipisCoalesced()).isEqualTo(2);
        final long t0 = System.nanoTime();
        m.shutdown(Duration.ofSeconds(2));
        final long took = System.nanoTime() - t0;
        deaf.release();
        assertThat(outside.get(10, TimeUnit.SECONDS)).isInstanceOf(MachineClosedException.class);
        assertThat(fromCore.get(10, TimeUnit.SECONDS)).isInstanceOf(MachineClosedException.class);
        assertThat(ran).as("given up, never run").hasValue(0);
        assertThat(took).as("shutdown(2 s) returned within its timeout (+3 s slack)").isLessThan(TimeUnit.SECONDS.toNanos(5));
    }

    /** A closed machine refuses a fast-path call before anything is queued. */
    @Test
    void aClosedMachineRefusesBeforeAnythingIsQueued() throws Exception {
        final Machine m = machine(2, IdlePolicy.park());
        final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
        m.shutdown(Duration.ofSeconds(5));
        final AtomicInteger ran = new AtomicInteger();
        assertThat(catchThrowable(() -> smp.run(1, c -> ran.incrementAndGet()))).isInstanceOf(MachineClosedException.class);
        assertThat(smp.delivery().queues[1].isEmpty()).isTrue();
        assertThat(ran).hasValue(0);
    }

    // =====================================================================================
    // Concurrency: views side by side, two callers, happens-before
    // =====================================================================================

    /**
     * Plain, deadline and group views of one layer from four threads (two outside, two cores) to
     * the same target at once: every call returns its own result, sees what its caller wrote,
     * and the function's write is seen after return.
     */
    @RepeatedTest(3)
    void viewsAndCallersSideBySideKeepResultsAndVisibility() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            final ServiceGroup group = ServiceGroup.of("g", 2, OverflowPolicy.BLOCK);
            final SmpCall[] views = {smp, smp.withDeadline(Duration.ofSeconds(20)), smp.inGroup(group), smp};
            final CountDownLatch go = new CountDownLatch(1);
            final AtomicLong bad = new AtomicLong();
            final List<CompletableFuture<?>> all = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                final SmpCall view = views[w];
                final int id = w;
                final Runnable body = () -> {
                    await(go);
                    final long[] box = new long[1]; // plain: the call must publish both ways
                    for (int i = 0; i < 2_000; i++) {
                        box[0] = id * 1_000_000L + i;
                        final long expect = box[0];
                        final long got = view.call(1, c -> {
                            final long v = box[0];
                            box[0] = -v;
                            return v;
                        });
                        if (got != expect || box[0] != -expect) {
                            bad.incrementAndGet();
                        }
                    }
                };
                all.add(w < 2 ? CompletableFuture.runAsync(body) : m.core(w == 2 ? 0 : 2).submit(body));
            }
            go.countDown();
            for (final CompletableFuture<?> f : all) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertThat(bad).hasValue(0);
        }
    }
    // =====================================================================================
    // JFR switched on and off mid-run, the stall watch
    // =====================================================================================

    /**
     * A JFR recording of CrossCall started and stopped while two threads make waited calls: the
     * path is chosen per call, every call returns its own result, and the waited calls made while
     * the recording was on are recorded (the general path's event).
     */
    @Test
    void jfrSwitchedOnAndOffMidRunChoosesThePathPerCall() throws Exception {
        try (Machine m = machine(3, IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m, WATCHDOG, Broadcast.flat());
            final AtomicLong bad = new AtomicLong();
            final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            final Runnable caller = () -> {
                for (int i = 0; !stop.get(); i++) {
                    final int v = i;
                    if ((int) smp.call(1 + (i & 1), c -> v + c) != v + 1 + (i & 1)) {
                        bad.incrementAndGet();
                    }
                }
            };
            final CompletableFuture<Void> a = CompletableFuture.runAsync(caller);
            final CompletableFuture<Void> b = m.core(0).submit(caller);
            final java.nio.file.Path file = java.nio.file.Files.createTempFile("review4", ".jfr");
            try (jdk.jfr.Recording rec = new jdk.jfr.Recording()) {
                rec.enable(org.ipi4j.observability.CrossCallEvent.NAME);
                for (int round = 0; round < 5; round++) {
                    final long before = smp.ipisSent() + smp.ipisCoalesced();
                    if (round == 0) {
                        rec.start();
                    }
                    while (smp.ipisSent() + smp.ipisCoalesced() < before + 200) {
                        Thread.onSpinWait(); // calls went by in this state
                    }
                }
                rec.stop();
                rec.dump(file);
            }
            for (int i = 0; i < 3; i++) {
                final long before = smp.ipisSent() + smp.ipisCoalesced();
                while (smp.ipisSent() + smp.ipisCoalesced() < before + 200) {
                    Thread.onSpinWait(); // and after the recording stopped
                }
            }
            stop.set(true);
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            final long waited = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals(org.ipi4j.observability.CrossCallEvent.NAME))
                .filter(e -> e.getBoolean("waited")).count();
            java.nio.file.Files.deleteIfExists(file);
            assertThat(bad).hasValue(0);
            assertThat(waited).as("waited calls recorded while the recording was on").isPositive();
        }
    }

    /**
     * The stall watch while a core waits on a fast-path call to a deaf core: the deaf core is
     * reported stalled; the waiting core (idle in its wait) is not.
     */
    @ParameterizedTest(name = "general path: {0}")
    @ValueSource(booleans = {false, true})
    void theStallWatchBlamesTheDeafTargetNotTheWaitingCaller(final boolean general) throws Exception {
        final List<Integer> stalled = java.util.Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch seen = new CountDownLatch(1);
        try (Machine m = Machine.builder().cores(3).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .stallThreshold(Duration.ofMillis(20)).onStall(s -> {
                    stalled.add(s.cpu());
                    seen.countDown();
                }).build().start()) {
            final SmpCall base = SmpCall.install(m, Duration.ofMillis(400), Broadcast.flat());
            final SmpCall smp = general ? base.withDeadline(Duration.ofMillis(800)) : base;
            // Warm up: the first run of the lambdas below loads classes on core 2, which on a loaded
            // host took over 20 ms without a boundary (reported as a stall, with the loader's stack).
            m.core(2).submit(() -> catchThrowable(() -> smp.run(1, c -> { }))).get(10, TimeUnit.SECONDS);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final Throwable t = m.core(2).submit(() -> catchThrowable(() -> smp.run(1, c -> { }))).get(10, TimeUnit.SECONDS);
            await(seen);
            deaf.close();
            assertThat(t).isInstanceOf(CallTimeoutException.class);
            assertThat(stalled).as("cores reported stalled; core 2 only waited, idle, for its call (" + m.core(2).describe() + ")")
                .contains(1).doesNotContain(2);
        }
    }
}
