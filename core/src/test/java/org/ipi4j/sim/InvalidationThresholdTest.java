package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Mmu.Builder#broadcastInvalidationByCost()} against the simulation: on small machines, for
 * every number of cores a space is active on, the way the chosen threshold sends a shootdown (by
 * broadcast at or above it, by IPIs below) is within 10% of the faster of the two, measured.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class InvalidationThresholdTest {
    private static final int PAGE = 64;

    /** One protect of one page from core 0, on a space active on cores 0 to {@code active - 1}, in virtual time. */
    private static long protect(final CostModel model, final int cores, final int active, final boolean broadcast)
        throws Exception {
        final Simulation sim = Simulation.builder().seed(active).costModel(model).build();
        try (Machine m = Machine.builder().cores(cores).simulation(sim).memoryWords(8 * PAGE).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.flat());
            final Mmu.Builder b = Mmu.builder(smp).pageWords(PAGE);
            final Mmu mmu = (broadcast ? b.broadcastInvalidation(1) : b).build();
            final AddressSpace as = mmu.newAddressSpace(4);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            return sim.run(() -> {
                for (int c = 0; c < active; c++) {
                    sim.await(m.core(c).submit(() -> mmu.switchTo(as)));
                }
                sim.await(m.core(0).submit(() -> as.protect(0, 1, Pte.READ))); // with broadcast: the transition
                assertThat(as.isGlobal()).as("global after the transition").isEqualTo(broadcast);
                return sim.await(m.core(0).submit(() -> {
                    final long t0 = sim.nanoTime();
                    as.protect(0, 1, Pte.READ | Pte.WRITE);
                    return sim.nanoTime() - t0;
                }));
            });
        }
    }

    @Test
    void onSmallMachinesTheChosenThresholdSendsEachShootdownTheFasterWayWithinTenPercent() throws Exception {
        final List<CostModel> models = List.of(CostModel.defaults(), AutoBroadcastTest.SLOW_SEND,
            CostModel.builder().send(60).latency(150, 300, 900).interrupt(200).price(CostModel.TLBSYNC, 1500)
                .topology(Topology.of(2, 2)).build());
        boolean sawBoth = false;
        for (final CostModel model : models) {
            for (int cores = 2; cores <= 8; cores++) {
                final Simulation sim = Simulation.builder().costModel(model).build();
                final int threshold;
                try (Machine m = Machine.builder().cores(cores).simulation(sim).build()) {
                    threshold = Mmu.builder(SmpCall.install(m)).broadcastInvalidationByCost().build().broadcastThreshold();
                }
                for (int active = 2; active <= cores; active++) {
                    final long ipis = protect(model, cores, active, false);
                    final long broadcast = protect(model, cores, active, true);
                    final boolean global = threshold > 0 && active >= threshold;
                    sawBoth |= global && threshold > 2;
                    final long chosen = global ? broadcast : ipis;
                    assertThat(chosen).as("%d of %d cores active, %s: threshold %d, IPIs %d ns, broadcast %d ns", active,
                        cores, model, threshold, ipis, broadcast).isLessThanOrEqualTo(Math.min(ipis, broadcast) * 11 / 10);
                }
            }
        }
        assertThat(sawBoth).as("some machine shoots down by IPIs on few cores and by broadcast on more").isTrue();
    }

    @Test
    void theExplicitThresholdStaysAsGiven() {
        final Simulation sim = Simulation.builder().costModel(AutoBroadcastTest.SLOW_SEND).build();
        try (Machine m = Machine.builder().cores(8).simulation(sim).build()) {
            final SmpCall smp = SmpCall.install(m);
            assertThat(Mmu.builder(smp).broadcastInvalidation(6).build().broadcastThreshold()).isEqualTo(6);
            assertThat(Mmu.builder(smp).broadcastInvalidation().build().broadcastThreshold())
                .isEqualTo(Mmu.DEFAULT_BROADCAST_THRESHOLD);
            assertThat(Mmu.builder(smp).build().broadcastThreshold()).isZero();
            assertThat(Mmu.builder(smp).broadcastInvalidationByCost().build().broadcastThreshold()).isBetween(2, 8);
        }
    }
}
