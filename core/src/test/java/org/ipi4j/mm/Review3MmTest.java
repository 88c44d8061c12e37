package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.sim.CostModel;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Review 3: broadcastInvalidationByCost() (threshold from the model, shape auto) with two
 * initiators racing the transition and the revocations: no stale translation after a revoking
 * call returned (the MMU's detectStale oracle).
 */
@Timeout(90)
class Review3MmTest {
    /** INVLPGB and TLBSYNC cheap beside an IPI round: the threshold comes out at 2. */
    private static final CostModel CHEAP_BROADCAST = CostModel.builder().price(CostModel.INVLPGB, 10)
        .price(CostModel.TLBSYNC, 10).build();

    @RepeatedTest(3)
    void twoInitiatorsRacingByCostShootdownsUnderAutoLeaveNoStaleTranslation() throws Exception {
        final Machine m = Machine.builder().cores(4).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
            .memoryWords(64 * 64).costModel(CHEAP_BROADCAST).build().start();
        try {
            final SmpCall smp = SmpCall.install(m, java.time.Duration.ofSeconds(5), Broadcast.auto());
            final Mmu mmu = Mmu.builder(smp).detectStale(true).broadcastInvalidationByCost().build();
            assertThat(mmu.broadcastThreshold()).as("the threshold chosen from the model").isEqualTo(2);
            final AddressSpace as = mmu.newAddressSpace(48);
            for (int vpn = 0; vpn < 48; vpn++) {
                as.map(vpn, vpn, Pte.READ | Pte.WRITE);
            }
            for (final int cpu : new int[] {1, 2, 3}) {
                m.core(cpu).submit(() -> mmu.switchTo(as)).get(10, TimeUnit.SECONDS);
            }
            // The transition (an IPI round under auto, to cores that take interrupts) before the
            // users spin in tasks, which take none.
            as.protect(47, 1, Pte.READ);
            assertThat(as.isGlobal()).as("active on 3 cores >= the chosen threshold").isTrue();
            final AtomicBoolean stop = new AtomicBoolean();
            final List<CompletableFuture<Void>> users = new ArrayList<>();
            for (final int cpu : new int[] {1, 2}) {
                users.add(m.core(cpu).submit(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        final int vpn = i++ % 8;
                        try {
                            mmu.write(as, (long) vpn * 64, i);
                        } catch (PageFaultException revoked) {
                            mmu.read(as, (long) vpn * 64);
                        }
                    }
                }));
            }
            // A second initiator on core 3, racing the outside one (and the transition to global).
            final CompletableFuture<Void> second = m.core(3).submit(() -> {
                for (int round = 0; round < 1_000; round++) {
                    final int vpn = 8 + round % 8;
                    as.protect(vpn, 1, Pte.READ);
                    as.protect(vpn, 1, Pte.READ | Pte.WRITE);
                }
            });
            for (int round = 0; round < 1_000; round++) {
                final int vpn = round % 8;
                as.protect(vpn, 1, Pte.READ);
                as.protect(vpn, 1, Pte.READ | Pte.WRITE);
            }
            second.get(30, TimeUnit.SECONDS);
            stop.set(true);
            for (final CompletableFuture<Void> u : users) {
                u.get(10, TimeUnit.SECONDS);
            }
            assertThat(as.stats().violations()).as("stale translations after a shootdown returned").isZero();
        } finally {
            m.shutdown(java.time.Duration.ofSeconds(5));
        }
    }
}
