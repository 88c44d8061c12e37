package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

import org.ipi4j.smp.Broadcast;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Cores sharing fewer host CPUs ({@link CostModel#hostCpus()}): what it charges, and that 0 charges nothing. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OversubscriptionTest {
    private static long onEachCore(final CostModel model, final long seed, final double jitter, final int cores,
                                   final Broadcast shape, final long[] trace) throws Exception {
        final Simulation sim = Simulation.builder().seed(seed).jitter(jitter).interleaving(jitter).costModel(model).build();
        final long nanos = AutoBroadcastTest.onEachCore(sim, cores, shape);
        trace[0] = sim.trace();
        return nanos;
    }

    @Test
    void withNoHostCpusGivenTheContextSwitchPriceChangesNoScheduleAndNoTime() throws Exception {
        final CostModel dear = CostModel.builder().contextSwitch(50_000).build();
        for (final Broadcast shape : new Broadcast[] {Broadcast.flat(), Broadcast.tree(3), Broadcast.auto()}) {
            final long[] a = new long[1];
            final long[] b = new long[1];
            assertThat(onEachCore(dear, 5, 0.4, 12, shape, a)).isEqualTo(onEachCore(CostModel.defaults(), 5, 0.4, 12, shape, b));
            assertThat(a[0]).as("the same trace with %s", shape).isEqualTo(b[0]);
        }
    }

    @Test
    void fewerHostCpusThanRunnableCoresCostContextSwitchesAndMoreCostLess() throws Exception {
        final long[] t = new long[1];
        final CostModel base = CostModel.builder().contextSwitch(3000).build();
        final long alone = onEachCore(base, 1, 0, 16, Broadcast.flat(), t);
        final long one = onEachCore(base.toBuilder().hostCpus(1).build(), 1, 0, 16, Broadcast.flat(), t);
        final long two = onEachCore(base.toBuilder().hostCpus(2).build(), 1, 0, 16, Broadcast.flat(), t);
        final long eight = onEachCore(base.toBuilder().hostCpus(8).build(), 1, 0, 16, Broadcast.flat(), t);
        final long plenty = onEachCore(base.toBuilder().hostCpus(64).build(), 1, 0, 16, Broadcast.flat(), t);
        assertThat(one).isGreaterThan(alone + 3000).isGreaterThanOrEqualTo(two);
        assertThat(two).isGreaterThanOrEqualTo(eight);
        assertThat(eight).isGreaterThanOrEqualTo(plenty);
        assertThat(plenty).as("more host CPUs than parties: nothing to share").isEqualTo(alone);
        final long cheap = onEachCore(base.toBuilder().hostCpus(1).contextSwitch(0).build(), 1, 0, 16, Broadcast.flat(), t);
        assertThat(cheap).as("a free context switch costs nothing").isEqualTo(alone);
    }

    @Test
    void anOversubscribedRunReplaysFromItsSeed() throws Exception {
        final CostModel shared = CostModel.builder().hostCpus(2).contextSwitch(2500).build();
        final long[] a = new long[1];
        final long[] b = new long[1];
        final long first = onEachCore(shared, 9, 0.5, 24, Broadcast.tree(4), a);
        assertThat(onEachCore(shared, 9, 0.5, 24, Broadcast.tree(4), b)).isEqualTo(first);
        assertThat(b[0]).isEqualTo(a[0]);
    }
}
