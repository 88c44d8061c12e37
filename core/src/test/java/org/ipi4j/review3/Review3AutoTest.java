package org.ipi4j.review3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.sim.CostModel;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 3: a cross-core call's guarantees whatever shape Broadcast.auto() picks (probes on a real machine). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Review3AutoTest {
    /** Sends dear beside latency: auto picks a tree for 7 targets. */
    private static final CostModel TREE_MODEL = CostModel.builder().send(20_000).build();

    private static Machine machine(final int cores) {
        return Machine.builder().cores(cores).costModel(TREE_MODEL).build().start();
    }

    /** Core {@code cpu} runs a task until {@code release} opens: it takes no call meanwhile. */
    private static CountDownLatch stuck(final Machine m, final int cpu, final CountDownLatch release) throws Exception {
        final CountDownLatch in = new CountDownLatch(1);
        m.core(cpu).submit(() -> {
            in.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(in.await(10, TimeUnit.SECONDS)).isTrue();
        return in;
    }

    @Test
    void thePreconditionAutoPicksATreeHere() {
        assertThat(Broadcast.best(7, TREE_MODEL).kind()).isEqualTo(Broadcast.Kind.TREE);
    }

    @RepeatedTest(5)
    void anAsyncAutoMulticastWithADeadlineAndAStuckInnerTargetCompletesByItsDeadline() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto()).withDeadline(Duration.ofMillis(300));
            stuck(m, 1, release); // core 1: the tree's first inner node for a call from outside
            final AtomicIntegerArray ran = new AtomicIntegerArray(8);
            final CallCompletion<Void> f = smp.onEachCoreAsync(ran::incrementAndGet);
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(CallTimeoutException.class);
            release.countDown();
            for (int i = 0; i < 8; i++) {
                assertThat(ran.get(i)).as("core %d ran at most once", i).isLessThanOrEqualTo(1);
            }
            assertThat(ran.get(1)).as("the stuck core never started it before the deadline").isZero();
        } finally {
            release.countDown();
        }
    }

    @RepeatedTest(5)
    void aWaitedAutoMulticastWithADeadlineAndAStuckTargetThrowsByItsDeadline() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto()).withDeadline(Duration.ofMillis(300));
            stuck(m, 2, release);
            final long t0 = System.nanoTime();
            assertThatThrownBy(() -> smp.onEachCore(cpu -> { })).isInstanceOf(CallTimeoutException.class);
            assertThat(System.nanoTime() - t0).as("returned, not hung").isLessThan(TimeUnit.SECONDS.toNanos(20));
            release.countDown(); // before the close: a core still in the task would make it unclean
        } finally {
            release.countDown();
        }
    }

    @RepeatedTest(5)
    void aCallFromCore5UnderAutoReachesEveryTargetOnce() throws Exception {
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            final AtomicIntegerArray ran = new AtomicIntegerArray(8);
            m.core(5).submit(() -> smp.onEachCore(ran::incrementAndGet)).get(10, TimeUnit.SECONDS);
            m.core(5).submit(() -> smp.run(CpuSet.range(0, 8).without(5), ran::incrementAndGet)).get(10, TimeUnit.SECONDS);
            m.core(5).submit(() -> smp.run(CpuSet.of(6, 7, 3), ran::incrementAndGet)).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 8; i++) {
                final int expected = i == 5 ? 1 : (i == 3 || i == 6 || i == 7) ? 3 : 2;
                assertThat(ran.get(i)).as("core %d", i).isEqualTo(expected);
            }
        }
    }

    @Test
    void autoOnOneTwoAndThreeCoresAndAConditionThatFiltersEveryCore() throws Exception {
        for (int cores = 1; cores <= 3; cores++) {
            try (Machine m = machine(cores)) {
                final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
                final AtomicIntegerArray ran = new AtomicIntegerArray(cores);
                smp.onEachCore(ran::incrementAndGet);
                m.core(0).submit(() -> smp.onEachCore(ran::incrementAndGet)).get(10, TimeUnit.SECONDS);
                smp.run(CpuSet.firstN(cores), cpu -> false, ran::incrementAndGet, Broadcast.auto());
                smp.runAsync(CpuSet.firstN(cores), cpu -> false, ran::incrementAndGet, Broadcast.auto()).get(10, TimeUnit.SECONDS);
                for (int i = 0; i < cores; i++) {
                    assertThat(ran.get(i)).as("core %d of %d", i, cores).isEqualTo(2);
                }
            }
        }
    }

    @RepeatedTest(5)
    void shutdownInTheMiddleOfAnAutoTreeBroadcastCompletesItsFuture() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        final Machine m = machine(8);
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            stuck(m, 1, release);
            final CallCompletion<Void> f = smp.onEachCoreAsync(cpu -> { });
            m.shutdown(Duration.ofMillis(500));
            assertThat(f.isDone()).as("the auto broadcast's future once shutdown returned").isTrue();
        } finally {
            release.countDown();
            m.shutdown(Duration.ofSeconds(5));
        }
    }

    @RepeatedTest(5)
    void cancelOfAnAutoTreeBroadcastWithAStuckInnerTargetCompletesIt() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            stuck(m, 1, release);
            final CallCompletion<Void> f = smp.onEachCoreAsync(cpu -> { });
            f.cancel();
            assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            release.countDown(); // before the close
        } finally {
            release.countDown();
        }
    }

    /** auto's toString, equals and rounds: stable, and rounds within the bound of some fixed shape. */
    @Test
    void autoDescribesItself() {
        assertThat(Broadcast.auto()).hasToString("auto").isEqualTo(Broadcast.auto());
        assertThat(Broadcast.auto().rounds(0)).isZero();
        assertThat(Broadcast.auto().rounds(1)).isEqualTo(1);
        assertThat(Broadcast.auto().rounds(5000)).isPositive();
    }

    /** Probe: a unicast on a layer whose broadcast is auto() (prepare skips AUTO; only multicast resolves it). */
    @Test
    void aUnicastOnAnAutoLayerWorks() throws Exception {
        try (Machine m = machine(4)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            assertThat(smp.callAsync(2, cpu -> 42).get(10, TimeUnit.SECONDS)).isEqualTo(42);
            assertThat(smp.<Integer>call(3, cpu -> 7)).isEqualTo(7);
            final AtomicIntegerArray ran = new AtomicIntegerArray(4);
            smp.run(1, ran::incrementAndGet);
            assertThat(ran.get(1)).isEqualTo(1);
        }
    }

    /**
     * Probe: one caller's reused waited call across a deadline expiry with a stuck inner node,
     * then calls of other target counts (auto changes the shape on the reused call): every later
     * call runs exactly once per target, and the expired one never runs where it had not started.
     */
    @RepeatedTest(5)
    void aReusedWaitedCallAfterAnExpiredAutoTreeRunsEachLaterCallOnce() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            final SmpCall timed = smp.withDeadline(Duration.ofMillis(200));
            stuck(m, 1, release);
            final AtomicIntegerArray a = new AtomicIntegerArray(8);
            final AtomicIntegerArray b = new AtomicIntegerArray(8);
            final AtomicIntegerArray c = new AtomicIntegerArray(8);
            assertThatThrownBy(() -> timed.run(CpuSet.range(1, 8), a::incrementAndGet)).isInstanceOf(CallTimeoutException.class);
            smp.run(CpuSet.of(5, 6), b::incrementAndGet);
            release.countDown();
            smp.run(CpuSet.range(0, 8), c::incrementAndGet);
            for (int i = 0; i < 8; i++) {
                assertThat(a.get(i)).as("expired call on core %d", i).isLessThanOrEqualTo(1);
                assertThat(b.get(i)).as("second call on core %d", i).isEqualTo(i == 5 || i == 6 ? 1 : 0);
                assertThat(c.get(i)).as("third call on core %d", i).isEqualTo(1);
            }
            assertThat(a.get(1)).isZero();
        } finally {
            release.countDown();
        }
    }

    /**
     * Probe: a bounded queue (capacity 1, FAIL) and a service group of 1 under auto's tree: a
     * multicast reaching a full core deep in the tree is refused before anything runs, and a
     * second call while the group's one is in flight is refused; after the release all is well.
     */
    @RepeatedTest(3)
    void boundedQueuesAndAServiceGroupUnderAnAutoTreeRefuseBeforeAnySideEffect() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.builder(m).broadcast(Broadcast.auto())
                .queueCapacity(1, org.ipi4j.interrupts.OverflowPolicy.FAIL).install();
            stuck(m, 6, release); // a leaf of the tree for a call from outside
            final AtomicIntegerArray ran = new AtomicIntegerArray(8);
            final CallCompletion<Void> filler = smp.runAsync(6, ran::incrementAndGet); // core 6's one slot
            assertThatThrownBy(() -> smp.onEachCoreAsync(ran::incrementAndGet))
                .isInstanceOf(org.ipi4j.interrupts.MailboxFullException.class);
            final org.ipi4j.smp.ServiceGroup group = org.ipi4j.smp.ServiceGroup.of("one", 1,
                org.ipi4j.interrupts.OverflowPolicy.FAIL);
            final SmpCall grouped = smp.inGroup(group);
            final CallCompletion<Void> inFlight = grouped.runAsync(CpuSet.of(1, 2, 3), ran::incrementAndGet);
            inFlight.get(10, TimeUnit.SECONDS);
            release.countDown();
            filler.get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 8; i++) {
                assertThat(ran.get(i)).as("core %d: only the filler and the grouped call ran", i)
                    .isEqualTo(i == 6 || (i >= 1 && i <= 3) ? 1 : 0);
            }
            assertThat(group.inFlight()).isZero();
            smp.onEachCore(ran::incrementAndGet);
        } finally {
            release.countDown();
        }
    }
}
