package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.ipi4j.DeliveryTestSupport.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class SmpCallTest {
    static Machine machine(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start();
    }

    /** Plain (non-volatile) fields: the call's acknowledgement must publish them. */
    static final class Plain {
        long[] written;
        int[] ranOn;
    }

    @ParameterizedTest(name = "{0} cores")
    @ValueSource(ints = {2, 4, 8})
    void runAndRunAsyncRunOnEveryTargetOnceAndPublishItsWrites(final int n) throws Exception {
        try (Machine m = machine(n)) {
            final SmpCall smp = SmpCall.install(m);
            for (final Broadcast shape : new Broadcast[] {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2), Broadcast.tree(3)}) {
                for (int round = 0; round < 20; round++) {
                    final Plain p = new Plain();
                    p.written = new long[n];
                    p.ranOn = new int[n];
                    final long stamp = round * 1000L + 7;
                    final CoreAction write = cpu -> {
                        p.written[cpu] = stamp + cpu;
                        p.ranOn[cpu] += 1;
                        assertThat(Core.current().id()).isEqualTo(cpu);
                    };
                    // Even rounds wait in run(); odd rounds wait on the future of runAsync().
                    final CallCompletion<Void> done;
                    if (round % 2 == 0) {
                        smp.run(CpuSet.firstN(n), null, write, shape);
                        done = null;
                    } else {
                        done = smp.runAsync(CpuSet.firstN(n), null, write, shape);
                        done.get(10, TimeUnit.SECONDS);
                    }
                    for (int cpu = 0; cpu < n; cpu++) {
                        assertThat(p.written[cpu]).as("%s write of core %d", shape, cpu).isEqualTo(stamp + cpu);
                        assertThat(p.ranOn[cpu]).as("%s runs on core %d", shape, cpu).isEqualTo(1);
                    }
                    if (done != null) {
                        assertThat(done.rounds()).as("%s rounds", shape).isEqualTo(shape.rounds(n));
                    }
                }
            }
        }
    }

    @Test
    void treeDepthIsLogarithmic() {
        assertThat(Broadcast.tree(2).rounds(8)).isEqualTo(3);   // 2 + 4 + 8 >= 8
        assertThat(Broadcast.tree(3).rounds(8)).isEqualTo(2);   // 3 + 9 >= 8
        assertThat(Broadcast.tree(2).rounds(6)).isEqualTo(2);   // 2 + 4
        assertThat(Broadcast.tree(8).rounds(8)).isEqualTo(1);
        assertThat(Broadcast.flat().rounds(8)).isEqualTo(1);
        assertThat(Broadcast.serial().rounds(8)).isEqualTo(8);
        for (int k = 2; k <= 4; k++) {
            for (int n = 1; n <= 64; n++) {
                assertThat(Broadcast.tree(k).rounds(n)).isLessThanOrEqualTo((int) Math.ceil(Math.log(n) / Math.log(k) - 1e-9) + (n == 1 ? 1 : 0));
            }
        }
        assertThatThrownBy(() -> Broadcast.tree(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void callReturnsTheTargetsResultAndLocalCallsNeedNoIpi() throws Exception {
        try (Machine m = machine(4)) {
            final SmpCall smp = SmpCall.install(m);
            final String hello = smp.call(3, cpu -> "hello from " + Core.current().id());
            assertThat(hello).isEqualTo("hello from 3");
            final long ipisBefore = smp.ipisSent();
            final boolean[] irqOffLocally = new boolean[1];
            m.core(1).submit(() -> {
                smp.run(1, cpu -> irqOffLocally[0] = !Core.current().interruptsEnabled());
            }).get(10, TimeUnit.SECONDS);
            assertThat(irqOffLocally[0]).as("local share runs with interrupts disabled").isTrue();
            assertThat(smp.ipisSent()).isEqualTo(ipisBefore);
            assertThat(smp.localRuns()).isEqualTo(1);
        }
    }

    @Test
    void onEachCoreIncludesOrExcludesTheCaller() throws Exception {
        try (Machine m = machine(4)) {
            final SmpCall smp = SmpCall.install(m);
            final Map<Integer, Integer> ran = new ConcurrentHashMap<>();
            m.core(2).submit(() -> smp.onOtherCores(cpu -> ran.merge(cpu, 1, Integer::sum))).get(10, TimeUnit.SECONDS);
            assertThat(ran).containsOnlyKeys(0, 1, 3).allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
            ran.clear();
            m.core(2).submit(() -> smp.onEachCore(cpu -> ran.merge(cpu, 1, Integer::sum))).get(10, TimeUnit.SECONDS);
            assertThat(ran).containsOnlyKeys(0, 1, 2, 3);
            assertThat(smp.localRuns()).isEqualTo(1);
        }
    }

    @Test
    void conditionSkipsCoresThatNeedNoCall() throws Exception {
        try (Machine m = machine(8)) {
            final SmpCall smp = SmpCall.install(m);
            final Map<Integer, Integer> ran = new ConcurrentHashMap<>();
            final var done = smp.runAsync(CpuSet.firstN(8), cpu -> cpu % 2 == 0, cpu -> ran.put(cpu, cpu), Broadcast.flat());
            done.get(10, TimeUnit.SECONDS);
            assertThat(ran).containsOnlyKeys(0, 2, 4, 6);
            assertThat(done.targets()).isEqualTo(CpuSet.of(0, 2, 4, 6));
            assertThat(smp.ipisSent()).isEqualTo(4);
            // A condition that excludes everyone completes at once, with no IPI.
            final var none = smp.runAsync(CpuSet.firstN(8), cpu -> false, cpu -> ran.put(-1, -1), Broadcast.tree(2));
            assertThat(none).isCompleted();
            assertThat(none.targets().isEmpty()).isTrue();
            assertThat(smp.runAsync(CpuSet.empty(), cpu -> { })).isCompleted();
            assertThat(ran).doesNotContainKey(-1);
            assertThat(smp.ipisSent()).isEqualTo(4);
        }
    }

    @RepeatedTest(3)
    void queuedCallsCoalesceIntoOneIpiAndNoWaitReturnsAtOnce() throws Exception {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            final CountDownLatch busy = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            m.core(1).submit(() -> {
                busy.countDown();
                await(release); // no checkpoint: the calls queue up
                Core.current().checkpoint();
            });
            await(busy);
            final AtomicInteger ran = new AtomicInteger();
            final CallCompletion<?>[] calls = new CallCompletion<?>[10];
            for (int i = 0; i < calls.length; i++) {
                calls[i] = smp.runAsync(1, cpu -> ran.incrementAndGet());
                assertThat(calls[i]).isNotDone();
            }
            assertThat(smp.ipisSent()).isEqualTo(1);
            assertThat(smp.ipisCoalesced()).isEqualTo(9);
            release.countDown();
            for (final CallCompletion<?> c : calls) {
                c.get(10, TimeUnit.SECONDS);
            }
            assertThat(ran.get()).isEqualTo(10);
            // Once drained, the next call needs an IPI of its own again.
            smp.run(1, cpu -> { });
            assertThat(smp.ipisSent()).isEqualTo(2);
        }
    }

    @Test
    void exceptionsOnTargetsReachTheCallerAndTheOthersStillRun() throws Exception {
        try (Machine m = machine(4)) {
            final SmpCall smp = SmpCall.install(m);
            final Map<Integer, Integer> ran = new ConcurrentHashMap<>();
            assertThatThrownBy(() -> smp.run(CpuSet.firstN(4), cpu -> {
                ran.put(cpu, cpu);
                if (cpu == 2) {
                    throw new IllegalStateException("bad on 2");
                }
            })).isInstanceOfSatisfying(SmpCallException.class, e -> {
                assertThat(e.failures()).containsOnlyKeys(2);
                assertThat(e).hasRootCauseMessage("bad on 2");
            });
            assertThat(ran).containsOnlyKeys(0, 1, 2, 3);
            final var noWait = smp.runAsync(1, cpu -> {
                throw new java.io.IOException("io");
            });
            assertThatThrownBy(() -> noWait.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(SmpCallException.class);
        }
    }

    @Test
    void watchdogResendsOnceThenNamesTheSilentCore() throws Exception {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(150), Broadcast.flat());
            final var deaf = org.ipi4j.DeliveryTestSupport.holdInterruptsOff(m.core(1));
            final AtomicInteger ran = new AtomicInteger();
            assertThatThrownBy(() -> smp.run(1, cpu -> ran.incrementAndGet()))
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.cpus()).isEqualTo(CpuSet.of(1));
                    assertThat(e.getMessage()).contains("core 1").contains("interrupts off").contains("await");
                });
            assertThat(smp.watchdogResends()).isEqualTo(1);
            deaf.close();
            // The call stayed queued: once the core listens again, it runs.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ran.get() == 0 && System.nanoTime() < deadline) {
                Thread.yield();
            }
            assertThat(ran.get()).isEqualTo(1);
        }
    }

    @Test
    void waitingFromAHandlerOrWithInterruptsOffIsRefused() throws Exception {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            final var fromHandler = new java.util.concurrent.CompletableFuture<Throwable>();
            final Vector v = Vector.of(0x40);
            m.interrupts().register(v, irq -> {
                try {
                    smp.run(1, cpu -> { });
                    fromHandler.complete(null);
                } catch (Throwable t) {
                    fromHandler.complete(t);
                }
            });
            m.interrupts().send(0, v, null);
            assertThat(fromHandler.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deadlock hazard").hasMessageContaining("handler");
            assertThatThrownBy(() -> m.core(0).submit(() -> {
                final Core c = Core.current();
                final boolean f = c.disableInterrupts();
                try {
                    smp.run(1, cpu -> { });
                } finally {
                    c.restoreInterrupts(f);
                }
            }).get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("interrupts disabled");
            // Without wait, a handler may call: it only queues.
            assertThat(smp.runAsync(1, cpu -> { }).get(10, TimeUnit.SECONDS)).isNull();
        }
    }

    @RepeatedTest(5)
    void twoCoresCallingEachOtherWithWaitDoNotDeadlock() throws Exception {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            final AtomicInteger ran = new AtomicInteger();
            final CountDownLatch go = new CountDownLatch(1);
            final var a = m.core(0).submit(() -> {
                await(go);
                for (int i = 0; i < 200; i++) {
                    smp.run(1, cpu -> ran.incrementAndGet());
                }
            });
            final var b = m.core(1).submit(() -> {
                await(go);
                for (int i = 0; i < 200; i++) {
                    smp.run(0, cpu -> ran.incrementAndGet());
                }
            });
            go.countDown();
            a.get(30, TimeUnit.SECONDS);
            b.get(30, TimeUnit.SECONDS);
            assertThat(ran.get()).isEqualTo(400);
        }
    }

    @Test
    void badTargetsAreRefused() {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            assertThatThrownBy(() -> smp.run(2, cpu -> { })).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> smp.run(CpuSet.of(0, 5), cpu -> { })).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> SmpCall.install(m)).isInstanceOf(IllegalStateException.class);
        }
    }
}
