package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.Machine;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SimulationTest {

    /** One onEachCore from core 0 in virtual time: the latency, and every core ran exactly once. */
    private static long onEachCore(final Simulation sim, final int cores, final Broadcast shape) throws Exception {
        try (Machine m = Machine.builder().cores(cores).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), shape);
            final AtomicIntegerArray ran = new AtomicIntegerArray(cores);
            final long nanos = sim.run(() -> sim.await(m.core(0).submit(() -> {
                final long t0 = sim.nanoTime();
                smp.onEachCore(ran::incrementAndGet);
                return sim.nanoTime() - t0;
            })));
            for (int i = 0; i < cores; i++) {
                assertThat(ran.get(i)).as("core %d ran the function", i).isEqualTo(1);
            }
            assertThat(smp.watchdogResends()).isZero();
            return nanos;
        }
    }

    @Test
    void aThousandAndTwentyFourCoresOnTwoHostCpus() throws Exception {
        final Simulation sim = Simulation.builder().seed(1).build();
        final long nanos = onEachCore(sim, 1024, Broadcast.tree(8));
        assertThat(nanos).isPositive();
        assertThat(sim.switches()).isGreaterThan(1023);
    }

    @Test
    void theSameSeedReplaysTheSameScheduleAndResult() throws Exception {
        final long[] traces = new long[3];
        final long[] results = new long[3];
        for (int i = 0; i < 3; i++) {
            final Simulation sim = Simulation.builder().seed(7).jitter(0.5).interleaving(0.3).build();
            results[i] = onEachCore(sim, 16, Broadcast.flat());
            traces[i] = sim.trace();
        }
        assertThat(traces[1]).isEqualTo(traces[0]);
        assertThat(traces[2]).isEqualTo(traces[0]);
        assertThat(results[1]).isEqualTo(results[0]);
        assertThat(results[2]).isEqualTo(results[0]);
    }

    @Test
    void differentSeedsExploreDifferentSchedules() throws Exception {
        final java.util.Set<Long> traces = new java.util.HashSet<>();
        for (long seed = 0; seed < 5; seed++) {
            final Simulation sim = Simulation.builder().seed(seed).jitter(0.5).interleaving(0.3).build();
            onEachCore(sim, 8, Broadcast.flat());
            traces.add(sim.trace());
        }
        assertThat(traces).hasSizeGreaterThan(1);
    }

    @Test
    void aWaitNothingWillEndIsADeadlockThatNamesTheSeed() throws Exception {
        final Simulation sim = Simulation.builder().seed(99).build();
        try (Machine m = Machine.builder().cores(2).simulation(sim).build().start()) {
            assertThat(m.timeline().simulated()).isTrue();
            final CompletableFuture<Void> never = new CompletableFuture<>();
            assertThatThrownBy(() -> sim.run(() -> sim.await(never)))
                .isInstanceOf(SimulationException.class)
                .hasMessageContaining("deadlock")
                .hasMessageContaining("seed 99")
                .satisfies(e -> assertThat(((SimulationException) e).seed()).isEqualTo(99));
        }
    }

    @Test
    void aRealWaitInsideARunIsAStallThatNamesTheThreadAndTheSeed() throws Exception {
        final Simulation sim = Simulation.builder().seed(3).stallTimeout(Duration.ofMillis(300)).build();
        try (Machine m = Machine.builder().cores(2).simulation(sim).build().start()) {
            // get() blocks for real while holding the baton: core 0 cannot run until the watchdog ends the simulation.
            assertThatThrownBy(() -> sim.run(() -> m.core(0).submit(() -> 1).get()))
                .isInstanceOf(SimulationException.class)
                .hasMessageContaining("stall")
                .hasMessageContaining("seed 3");
        }
    }

    @Test
    void pctReplaysBySeedAndItsSeedsDiffer() throws Exception {
        final java.util.Set<Long> traces = new java.util.HashSet<>();
        for (long seed = 0; seed < 5; seed++) {
            final Simulation a = Simulation.builder().seed(seed).pct(3, 20).build();
            final Simulation b = Simulation.builder().seed(seed).pct(3, 20).build();
            onEachCore(a, 8, Broadcast.flat());
            onEachCore(b, 8, Broadcast.flat());
            assertThat(b.trace()).as("seed %d's PCT schedule", seed).isEqualTo(a.trace());
            assertThat(a.steps()).as("interleaving points passed").isPositive().isEqualTo(b.steps());
            traces.add(a.trace());
        }
        assertThat(traces).hasSizeGreaterThan(1);
        assertThatThrownBy(() -> Simulation.builder().pct(0, 10)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("depth");
        assertThatThrownBy(() -> Simulation.builder().pct(3, 1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("steps");
        assertThatThrownBy(() -> Simulation.builder().pct(3, 10).interleaving(0.3).build())
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("set one");
    }

    @Test
    void misuseIsRefusedWithAMessage() throws Exception {
        final Simulation unbound = Simulation.builder().build();
        assertThatThrownBy(() -> unbound.run(() -> null)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("serves no machine");
        final Simulation sim = Simulation.builder().build();
        try (Machine m = Machine.builder().cores(2).simulation(sim).build().start()) {
            assertThatThrownBy(() -> Machine.builder().cores(2).simulation(sim).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("one simulation per machine");
            assertThatThrownBy(() -> sim.run(() -> sim.run(() -> null))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one run at a time");
            assertThat(m.timeline()).isSameAs(sim);
            assertThat(m.topology()).isSameAs(sim.costs().topology());
        }
        assertThatThrownBy(() -> sim.run(() -> null)).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("has ended");
        assertThatThrownBy(() -> Simulation.builder().jitter(2)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("jitter");
        assertThatThrownBy(() -> CostModel.builder().send(-1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("send");
    }

    @Test
    void workIsPricedByTheNameItsCodeGivesIt() {
        final CostModel model = CostModel.builder().send(7).flush(3, 40).price("doorbell", 9).build();
        assertThat(model.price(org.ipi4j.time.Timeline.Work.named("send"))).isEqualTo(7);
        assertThat(model.price(org.ipi4j.time.Timeline.Work.named(CostModel.FLUSH_PAGE))).isEqualTo(3);
        assertThat(model.price(org.ipi4j.time.Timeline.Work.named(CostModel.FLUSH_ALL))).isEqualTo(40);
        assertThat(model.price(org.ipi4j.time.Timeline.Work.named("doorbell"))).isEqualTo(9);
        assertThat(CostModel.builder().price(CostModel.INTERRUPT, 11).build()
            .price(org.ipi4j.time.Timeline.Work.named("interrupt"))).isEqualTo(11);
        assertThatThrownBy(() -> model.price(org.ipi4j.time.Timeline.Work.named("page-walk")))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'page-walk'")
            .hasMessageContaining("doorbell");
        assertThatThrownBy(() -> org.ipi4j.time.Timeline.Work.named("Flush Page"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Flush Page'");
        assertThatThrownBy(() -> CostModel.builder().price("doorbell", -1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("doorbell");
    }

    @Test
    void aTaskThatLoopsOnCheckpointsLetsTheOtherCoresRun() throws Exception {
        final Simulation sim = Simulation.builder().seed(11).stallTimeout(Duration.ofSeconds(20)).build();
        try (Machine m = Machine.builder().cores(3).simulation(sim).build().start()) {
            final java.util.concurrent.atomic.AtomicBoolean flag = new java.util.concurrent.atomic.AtomicBoolean();
            final long spins = sim.run(() -> {
                final CompletableFuture<Long> waiter = m.core(1).submit(() -> {
                    long n = 0;
                    while (!flag.get()) {
                        org.ipi4j.Core.current().checkpoint(); // each boundary costs virtual time
                        n++;
                    }
                    return n;
                });
                final CompletableFuture<Void> setter = m.core(2).submit(() -> flag.set(true));
                sim.await(setter);
                return sim.await(waiter);
            });
            assertThat(spins).isPositive();
        }
    }
}
