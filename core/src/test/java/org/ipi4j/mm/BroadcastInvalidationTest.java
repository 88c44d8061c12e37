package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Broadcast invalidation without IPIs (the INVLPGB/TLBSYNC model) for spaces active on many cores. */
@Timeout(60)
class BroadcastInvalidationTest {
    record Rig(Machine machine, SmpCall smp, Mmu mmu, AddressSpace as) implements AutoCloseable {
        static Rig of(final int cores, final int threshold, final int... users) throws Exception {
            final Machine m = Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .memoryWords(64 * 64).build().start();
            final SmpCall smp = SmpCall.install(m);
            final Mmu mmu = Mmu.builder(smp).detectStale(true).broadcastInvalidation(threshold).build();
            final AddressSpace as = mmu.newAddressSpace(48);
            for (int vpn = 0; vpn < 48; vpn++) {
                as.map(vpn, vpn, Pte.READ | Pte.WRITE);
            }
            final Rig r = new Rig(m, smp, mmu, as);
            for (final int cpu : users) {
                r.on(cpu, () -> {
                    mmu.switchTo(as);
                    for (int vpn = 0; vpn < 48; vpn++) {
                        mmu.write(as, (long) vpn * 64, vpn);
                    }
                });
            }
            return r;
        }

        void on(final int cpu, final Runnable r) throws Exception {
            machine.core(cpu).submit(r).get(10, TimeUnit.SECONDS);
        }

        boolean writes(final int cpu, final int vpn) throws Exception {
            return machine.core(cpu).submit(() -> {
                try {
                    mmu.write(as, (long) vpn * 64, 9);
                    return true;
                } catch (PageFaultException e) {
                    return false;
                }
            }).get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    @Test
    void aSpaceOnEnoughCoresGoesGlobalThroughOneIpiRoundThenShootsDownWithoutIpis() throws Exception {
        try (Rig r = Rig.of(4, 2, 1, 2)) {
            assertThat(r.as().isGlobal()).isFalse();
            r.as().protect(0, 1, Pte.READ); // the transition: an IPI to every core
            assertThat(r.as().isGlobal()).isTrue();
            assertThat(r.as().stats().remoteTargets()).isEqualTo(4);
            assertThat(r.writes(1, 0)).isFalse();
            final long ipis = r.smp().ipisSent();
            final long remote = r.mmu().tlb(2).remoteInvalidations();
            r.as().protect(1, 1, Pte.READ); // broadcast: no interrupt reaches anyone
            assertThat(r.smp().ipisSent()).isEqualTo(ipis);
            assertThat(r.as().broadcastShootdowns()).isEqualTo(1);
            assertThat(r.mmu().tlb(2).remoteInvalidations()).isGreaterThan(remote);
            assertThat(r.writes(1, 1)).isFalse();
            assertThat(r.writes(2, 1)).isFalse();
            assertThat(r.writes(2, 2)).as("an unrelated page keeps its translation").isTrue();
            // Above the full-flush ceiling: every entry of the space goes, still without IPIs.
            r.as().protect(2, 40, Pte.READ);
            assertThat(r.smp().ipisSent()).isEqualTo(ipis);
            assertThat(r.writes(1, 20)).isFalse();
            assertThat(r.writes(2, 41)).isFalse();
            assertThat(r.as().stats().violations()).isZero();
        }
    }

    @Test
    void belowTheThresholdOrOffShootdownsStayIpis() throws Exception {
        for (final int threshold : new int[] {3, 0}) {
            try (Rig r = Rig.of(4, threshold, 1, 2)) {
                r.as().protect(0, 1, Pte.READ);
                r.as().protect(1, 1, Pte.READ);
                assertThat(r.as().isGlobal()).as("threshold " + threshold).isFalse();
                assertThat(r.as().broadcastShootdowns()).isZero();
                assertThat(r.as().stats().remoteTargets()).isEqualTo(4); // 2 cores x 2 shootdowns
            }
        }
        assertThatThrownBy(() -> Mmu.builder(null)).isInstanceOf(NullPointerException.class);
        try (Rig r = Rig.of(4, 0, 1, 2, 3)) {
            final Mmu byDefault = Mmu.builder(r.smp()).broadcastInvalidation().build();
            assertThat(Mmu.DEFAULT_BROADCAST_THRESHOLD).isEqualTo(4);
            final AddressSpace as = byDefault.newAddressSpace(1);
            as.map(0, 0, Pte.READ | Pte.WRITE);
            for (final int cpu : new int[] {0, 1, 2}) {
                r.on(cpu, () -> byDefault.read(as, 0)); // active on 3 cores: below the default of 4
            }
            as.protect(0, 1, Pte.READ);
            assertThat(as.isGlobal()).isFalse();
            r.on(3, () -> byDefault.read(as, 0)); // now 4
            as.protect(0, 1, Pte.READ | Pte.WRITE);
            as.protect(0, 1, Pte.READ);
            assertThat(as.isGlobal()).isTrue();
            assertThatThrownBy(() -> Mmu.builder(r.smp()).broadcastInvalidation(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        }
    }

    @RepeatedTest(3)
    void translationsRacingBroadcastShootdownsNeverUseARevokedEntryAfterItsShootdownReturned() throws Exception {
        try (Rig r = Rig.of(3, 1, 1, 2)) {
            r.as().protect(47, 1, Pte.READ); // the transition
            assertThat(r.as().isGlobal()).isTrue();
            final AtomicBoolean stop = new AtomicBoolean();
            final List<CompletableFuture<Void>> users = new ArrayList<>();
            for (final int cpu : new int[] {1, 2}) {
                users.add(r.machine().core(cpu).submit(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        final int vpn = i++ % 8;
                        try {
                            r.mmu().write(r.as(), (long) vpn * 64, i);
                        } catch (PageFaultException revoked) {
                            r.mmu().read(r.as(), (long) vpn * 64);
                        }
                    }
                }));
            }
            for (int round = 0; round < 2_000; round++) {
                final int vpn = round % 8;
                r.as().protect(vpn, 1, Pte.READ);
                r.as().protect(vpn, 1, Pte.READ | Pte.WRITE);
            }
            stop.set(true);
            for (final CompletableFuture<Void> u : users) {
                u.get(10, TimeUnit.SECONDS);
            }
            assertThat(r.as().broadcastShootdowns()).isEqualTo(2_000);
            assertThat(r.as().stats().violations()).as("stale translations after a shootdown returned").isZero();
        }
    }
}
