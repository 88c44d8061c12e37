package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Broadcast#auto()} against the simulation: on every machine tried, the shape it picks
 * runs within 10% of the best fixed shape measured there, and the same seed and model file give
 * the same virtual times.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AutoBroadcastTest {
    @TempDir
    Path dir;

    /** The costs a calibration of a slow host might give: a slow ICR write, slow wake-ups. */
    static final CostModel SLOW_SEND = CostModel.builder().send(900).latency(700, 1100, 2500).wake(1500)
        .interrupt(900).build();

    /**
     * What `lab calibrate` measured on the project's 2-CPU VM (2026-12-02): a cheap send and hop, and
     * a waker's unpark of a parked core (a futex wake, about 9 us) that dwarfs both.
     */
    static final CostModel CALIBRATED = CostModel.builder().send(100).latency(37, 600, 1500).wake(14_481).interrupt(54)
        .flush(0, 90).spin(24).price(CostModel.UNPARK, 8_703).build();

    /** A call from core 0 to every core, run once in virtual time: how long the initiator waited, checked that every core ran. */
    static long onEachCore(final Simulation sim, final int cores, final Broadcast shape) throws Exception {
        try (Machine m = Machine.builder().cores(cores).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), shape);
            final AtomicIntegerArray ran = new AtomicIntegerArray(cores);
            final long nanos = sim.run(() -> sim.await(m.core(0).submit(() -> {
                final long t0 = sim.nanoTime();
                smp.onEachCore(ran::incrementAndGet);
                return sim.nanoTime() - t0;
            })));
            for (int i = 0; i < cores; i++) {
                assertThat(ran.get(i)).as("core %d of %d ran the function once with %s", i, cores, shape).isEqualTo(1);
            }
            return nanos;
        }
    }

    private static long onEachCore(final CostModel model, final int cores, final Broadcast shape) throws Exception {
        return onEachCore(Simulation.builder().seed(cores).costModel(model).build(), cores, shape);
    }

    /** Every fixed shape: flat, serial, topology and trees of fan-out 1 to 16. */
    private static List<Broadcast> everyFixedShape() {
        final List<Broadcast> all = new ArrayList<>(List.of(Broadcast.flat(), Broadcast.serial(), Broadcast.topology()));
        for (int k = 1; k <= 16; k++) {
            all.add(Broadcast.tree(k));
        }
        return all;
    }

    @Test
    void onSmallMachinesAutoIsWithinTenPercentOfTheBestShapeMeasured() throws Exception {
        final List<CostModel> models = List.of(CostModel.defaults(),
            CostModel.builder().topology(Topology.of(2, 2)).build(),
            SLOW_SEND.toBuilder().topology(Topology.of(4, 2)).build(),
            CostModel.builder().send(400).latency(200, 900, 3000).topology(Topology.of(3, 2)).build(),
            CostModel.builder().topology(Topology.uniform()).wake(700).build(), CALIBRATED);
        final Set<String> picked = new HashSet<>();
        for (final CostModel model : models) {
            for (int cores = 2; cores <= 16; cores++) {
                long best = Long.MAX_VALUE;
                Broadcast bestShape = null;
                for (final Broadcast shape : everyFixedShape()) {
                    final long t = onEachCore(model, cores, shape);
                    if (t < best) {
                        best = t;
                        bestShape = shape;
                    }
                }
                final long auto = onEachCore(model, cores, Broadcast.auto());
                final Broadcast choice = Broadcast.best(cores - 1, model);
                picked.add(choice.toString());
                assertThat(auto).as("%d cores, %s: auto (%s) against the best, %s at %d ns", cores, model, choice,
                    bestShape, best).isLessThanOrEqualTo(best + best / 10);
                assertThat(auto).as("auto ran the shape best() names").isEqualTo(onEachCore(model, cores, choice));
                // What was charged, but for a tie: two acknowledgements at the same virtual time go
                // in the seed's order, and the estimate takes the mean of their ways back.
                assertThat(choice.estimateNanos(cores - 1, model)).as("the estimate, %d cores, %s, %s", cores, model,
                    choice).isCloseTo(auto, withinPercentage(10));
            }
        }
        // It does choose: a slow send wants a tree where the defaults want one flat multicast.
        assertThat(picked).contains("flat").hasSizeGreaterThan(3);
        assertThat(Broadcast.best(7, CostModel.defaults())).isEqualTo(Broadcast.flat());
        assertThat(Broadcast.best(7, SLOW_SEND).kind()).isEqualTo(Broadcast.Kind.TREE);
    }

    @Test
    void upToTwoHundredFiftySixCoresAutoIsWithinTenPercentOfTheBestFixedShape() throws Exception {
        final List<Broadcast> fixed = new ArrayList<>(List.of(Broadcast.flat(), Broadcast.serial(), Broadcast.topology()));
        for (final int k : new int[] {2, 3, 4, 6, 8, 12, 16, 32}) {
            fixed.add(Broadcast.tree(k));
        }
        for (final CostModel model : List.of(CostModel.defaults(), SLOW_SEND, CALIBRATED)) {
            for (int cores = 2; cores <= 256; cores *= 2) {
                long best = Long.MAX_VALUE;
                for (final Broadcast shape : fixed) {
                    best = Math.min(best, onEachCore(model, cores, shape));
                }
                final long auto = onEachCore(model, cores, Broadcast.auto());
                assertThat(auto).as("%d cores, %s: auto (%s)", cores, model, Broadcast.best(cores - 1, model))
                    .isLessThanOrEqualTo(best + best / 10);
            }
        }
    }

    @Test
    void theSameSeedAndModelFileGiveTheSameVirtualTimes() throws Exception {
        final Path file = dir.resolve("calibrated.properties");
        SLOW_SEND.toBuilder().provenance("host", "test").build().write(file);
        final long[] nanos = new long[3];
        final long[] traces = new long[3];
        for (int i = 0; i < 3; i++) {
            final Simulation sim = Simulation.builder().seed(11).jitter(0.3).costModel(CostModel.read(file)).build();
            nanos[i] = onEachCore(sim, 48, Broadcast.auto());
            traces[i] = sim.trace();
        }
        assertThat(nanos[1]).isEqualTo(nanos[0]);
        assertThat(nanos[2]).isEqualTo(nanos[0]);
        assertThat(traces[1]).isEqualTo(traces[0]);
        assertThat(traces[2]).isEqualTo(traces[0]);
    }

    @Test
    void onRealCoresAutoReachesEveryTargetWaitedAsyncAndWithADeadline() throws Exception {
        try (Machine m = Machine.builder().cores(4).pinning(Pinning.NONE).idlePolicy(IdlePolicy.park())
            .costModel(SLOW_SEND).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            assertThat(smp.broadcast()).isSameAs(Broadcast.auto());
            for (int round = 0; round < 50; round++) {
                final AtomicIntegerArray ran = new AtomicIntegerArray(4);
                smp.onEachCore(ran::incrementAndGet);
                smp.onEachCoreAsync(ran::incrementAndGet).get(5, TimeUnit.SECONDS);
                smp.withDeadline(Duration.ofSeconds(5)).onEachCore(ran::incrementAndGet);
                m.core(1).submit(() -> {
                    smp.onOtherCores(ran::incrementAndGet); // from a core: the reused call of a core initiator
                    return null;
                }).get(5, TimeUnit.SECONDS);
                for (int i = 0; i < 4; i++) {
                    assertThat(ran.get(i)).as("round %d, core %d", round, i).isEqualTo(i == 1 ? 3 : 4);
                }
            }
        }
    }

    @Test
    void badArgumentsAreRefusedByName() {
        assertThatThrownBy(() -> Broadcast.best(-1, CostModel.defaults())).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("targets");
        assertThatThrownBy(() -> Broadcast.best(1025, CostModel.defaults())).hasMessageContaining("1025");
        assertThatThrownBy(() -> Broadcast.flat().estimateNanos(-1, CostModel.defaults())).hasMessageContaining("targets");
        assertThat(Broadcast.auto().rounds(7)).isEqualTo(1); // flat, with the default model
        assertThat(Broadcast.auto().rounds(0)).isZero();
        assertThat(Broadcast.best(7, SLOW_SEND).rounds(7)).isEqualTo(2);
        assertThat(Broadcast.auto()).hasToString("auto");
        assertThat(Broadcast.auto().kind()).isEqualTo(Broadcast.Kind.AUTO);
        assertThat(Broadcast.best(0, CostModel.defaults())).isEqualTo(Broadcast.flat());
        assertThat(Broadcast.best(1, SLOW_SEND)).isEqualTo(Broadcast.flat());
        assertThat(Broadcast.auto().estimateNanos(0, CostModel.defaults())).isZero();
        assertThat(Broadcast.auto().estimateNanos(1024, SLOW_SEND))
            .isEqualTo(Broadcast.best(1024, SLOW_SEND).estimateNanos(1024, SLOW_SEND));
    }
}
