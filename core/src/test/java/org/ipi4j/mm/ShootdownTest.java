package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.ipi4j.DeliveryTestSupport;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.isa.Program;
import org.ipi4j.isa.ProgramResult;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(90)
class ShootdownTest {
    static final int PAGE = 64;

    record Rig(Machine machine, SmpCall smp, Mmu mmu, AddressSpace as) implements AutoCloseable {
        @Override
        public void close() {
            machine.close();
        }
    }

    static Rig rig(final int cores, final Duration watchdog, final Broadcast shape) {
        final Machine m = Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
            .memoryWords(64 * PAGE).build().start();
        final SmpCall smp = SmpCall.install(m, watchdog, shape);
        // A long batch window: gathers here flush by count or on close, never by the clock.
        final Mmu mmu = Mmu.builder(smp).pageWords(PAGE).batchWindow(Duration.ofMinutes(1)).detectStale(true).build();
        return new Rig(m, smp, mmu, mmu.newAddressSpace(48));
    }

    /**
     * A space of 8 pages on {@code mmu} (built with broadcast invalidation from 2 cores) whose
     * pages 0 and 1 map frames 1 and 2 writable, switched to and read on both of {@code r}'s
     * cores, then made global by a transition round (a protect of page 1 to read-only).
     */
    static AddressSpace globalSpace(final Rig r, final Mmu mmu) throws Exception {
        final AddressSpace as = mmu.newAddressSpace(8);
        as.map(0, 1, Pte.READ | Pte.WRITE);
        as.map(1, 2, Pte.READ | Pte.WRITE);
        for (int cpu = 0; cpu < 2; cpu++) {
            r.machine().core(cpu).submit(() -> {
                mmu.switchTo(as);
                return mmu.read(as, 0);
            }).get(10, TimeUnit.SECONDS);
        }
        as.protect(1, 1, Pte.READ); // the transition round
        assertThat(as.isGlobal()).as("global after the transition round").isTrue();
        return as;
    }

    static Rig rig(final int cores) {
        return rig(cores, Duration.ofSeconds(10), Broadcast.flat());
    }

    /** Runs {@code as} on {@code cpu} and reads {@code vpns} so they sit in its TLB. */
    static void warm(final Rig r, final int cpu, final int... vpns) throws Exception {
        r.machine().core(cpu).submit(() -> {
            r.mmu().switchTo(r.as());
            for (final int vpn : vpns) {
                r.mmu().read(r.as(), (long) vpn * PAGE);
            }
        }).get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{0} cores")
    @ValueSource(ints = {4, 8})
    void afterRevokingWriteReturnsNoStoreSucceeds(final int cores) throws Exception {
        for (final Broadcast shape : new Broadcast[] {Broadcast.flat(), Broadcast.tree(2)}) {
            try (Rig r = rig(cores, Duration.ofSeconds(10), shape)) {
                final AddressSpace as = r.as();
                as.map(0, 1, Pte.READ | Pte.WRITE);
                // Each storing core writes an ever-increasing counter to its own word of page 0.
                final List<CompletableFuture<ProgramResult>> runs = new ArrayList<>();
                for (int cpu = 1; cpu < cores; cpu++) {
                    final Program p = Program.builder()
                        .set(0, 0).set(1, 1)
                        .label("loop")
                        .addi(0, 1)         // 2
                        .store(cpu, 0)      // 3: [page 0, word cpu] = r0
                        .bnez(1, "loop")    // 4
                        .build();
                    runs.add(r.machine().core(cpu).execute(p, Mode.USER, r.mmu().translation(as)));
                }
                for (int cpu = 1; cpu < cores; cpu++) { // every core is storing through its TLB
                    while (r.machine().memory().load(PAGE + cpu) < 100) {
                        Thread.onSpinWait();
                    }
                }
                as.protect(0, 1, Pte.READ);
                final long[] atReturn = new long[cores];
                for (int cpu = 1; cpu < cores; cpu++) {
                    atReturn[cpu] = r.machine().memory().load(PAGE + cpu);
                }
                for (int cpu = 1; cpu < cores; cpu++) {
                    final CompletableFuture<ProgramResult> run = runs.get(cpu - 1);
                    final int c = cpu;
                    assertThatThrownBy(() -> run.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOfSatisfying(PageFaultException.class, pf -> {
                            assertThat(pf.write()).isTrue();
                            assertThat(pf.epc()).isEqualTo(3);
                            assertThat(pf.address()).isEqualTo(c);
                            assertThat(pf.cpu()).isEqualTo(c);
                        });
                    assertThat(r.machine().memory().load(PAGE + cpu)).as("%s: store on core %d after return", shape, cpu)
                        .isEqualTo(atReturn[cpu]);
                }
                final ShootdownStats st = as.stats();
                assertThat(st.violations()).isZero();
                assertThat(st.shootdowns()).isEqualTo(1);
                assertThat(st.remoteTargets()).isEqualTo(cores - 1);
                assertThat(st.window().count()).isEqualTo(1);
                assertThat(st.delivery().count()).isEqualTo(cores - 1);
            }
        }
    }

    @Test
    void unmapAboveTheCeilingFlushesWholeTlbsAndBelowItPageByPage() throws Exception {
        try (Rig r = rig(3)) {
            final AddressSpace as = r.as();
            for (int vpn = 0; vpn < 45; vpn++) {
                as.map(vpn, vpn % 60, Pte.READ);
            }
            final int[] all = java.util.stream.IntStream.range(0, 45).toArray();
            warm(r, 1, all);
            warm(r, 2, all);
            final long pages1 = r.mmu().tlb(1).pageFlushes();
            as.unmap(0, 5);
            assertThat(r.mmu().tlb(1).pageFlushes() - pages1).isEqualTo(5);
            final long full1 = r.mmu().tlb(1).fullFlushes();
            final long full2 = r.mmu().tlb(2).fullFlushes();
            as.unmap(5, 40); // 40 > 33
            assertThat(r.mmu().tlb(1).fullFlushes()).isEqualTo(full1 + 1);
            assertThat(r.mmu().tlb(2).fullFlushes()).isEqualTo(full2 + 1);
            assertThat(r.machine().core(1).submit(() -> r.mmu().tlb(1).entriesFor(as.asid())).get()).isZero();
            assertThatThrownBy(() -> r.machine().core(1).submit(() -> r.mmu().read(as, 10L * PAGE)).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOfSatisfying(PageFaultException.class, pf -> assertThat(pf.write()).isFalse());
            assertThat(as.stats().violations()).isZero();
        }
    }

    @Test
    void lazyCoresAreSkippedAndCatchUpWhenTheySwitchBack() throws Exception {
        try (Rig r = rig(3)) {
            final AddressSpace as = r.as();
            as.map(0, 2, Pte.READ | Pte.WRITE);
            warm(r, 1, 0);
            warm(r, 2, 0);
            r.machine().core(1).submit(() -> r.mmu().switchTo(null)).get(); // core 1 goes lazy
            final long ipis = r.smp().ipisSent();
            as.protect(0, 1, Pte.READ);
            assertThat(as.stats().lazySkips()).isEqualTo(1);
            assertThat(as.stats().remoteTargets()).isEqualTo(1); // core 2 only
            assertThat(r.smp().ipisSent() - ipis).isEqualTo(1);
            assertThat(as.cpumask()).isEqualTo(CpuSet.of(1, 2));
            // Core 1 still caches the old entry, but cannot use it: switching back catches up.
            assertThat(r.machine().core(1).submit(() -> r.mmu().tlb(1).entriesFor(as.asid())).get()).isEqualTo(1);
            final long full = r.mmu().tlb(1).fullFlushes();
            assertThatThrownBy(() -> r.machine().core(1).submit(() -> {
                r.mmu().switchTo(as);
                r.mmu().write(as, 0, 42);
            }).get(5, TimeUnit.SECONDS)).cause().isInstanceOf(PageFaultException.class);
            assertThat(r.mmu().tlb(1).fullFlushes()).isEqualTo(full + 1);
            assertThat(r.machine().memory().load(2L * PAGE)).isZero();
        }
    }

    @RepeatedTest(3)
    void aTargetBehindByTwoFlushesCatchesUpWithOneFullFlush() throws Exception {
        try (Rig r = rig(2)) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            as.map(1, 2, Pte.READ | Pte.WRITE);
            warm(r, 1, 0, 1);
            final var deaf = DeliveryTestSupport.holdInterruptsOff(r.machine().core(1));
            final long gen0 = as.generation();
            final long full = r.mmu().tlb(1).fullFlushes();
            final long pages = r.mmu().tlb(1).pageFlushes();
            final var a = CompletableFuture.runAsync(() -> as.protect(0, 1, Pte.READ));
            final var b = CompletableFuture.runAsync(() -> as.protect(1, 1, Pte.READ));
            while (as.generation() < gen0 + 2) {
                Thread.onSpinWait();
            }
            assertThat(a).isNotDone();
            assertThat(b).isNotDone();
            deaf.close();
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            assertThat(r.mmu().tlb(1).fullFlushes() - full).isEqualTo(1);
            assertThat(r.mmu().tlb(1).pageFlushes() - pages).isZero();
            assertThat(as.stats().irqOffDelay().max()).isPositive();
        }
    }

    @Test
    void batchingSendsOneIpiPerTargetForManyPages() throws Exception {
        try (Rig r = rig(3)) {
            final AddressSpace as = r.as();
            for (int vpn = 0; vpn < 20; vpn++) {
                as.map(vpn, vpn, Pte.READ | Pte.WRITE);
            }
            warm(r, 1, 0);
            warm(r, 2, 0);
            long ipis = r.smp().ipisSent();
            for (int vpn = 0; vpn < 10; vpn++) {
                as.protect(vpn, 1, Pte.READ);
            }
            assertThat(r.smp().ipisSent() - ipis).isEqualTo(10 * 2);
            ipis = r.smp().ipisSent();
            final long shootdowns = as.stats().shootdowns();
            try (MmuGather g = as.gather()) {
                for (int vpn = 10; vpn < 20; vpn++) {
                    g.protect(vpn, 1, Pte.READ);
                }
                assertThat(g.pendingPages()).isEqualTo(10);
            }
            assertThat(r.smp().ipisSent() - ipis).isEqualTo(2);
            assertThat(as.stats().shootdowns() - shootdowns).isEqualTo(1);
            assertThatThrownBy(() -> r.machine().core(2).submit(() -> r.mmu().write(as, 15L * PAGE, 1)).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(PageFaultException.class);
        }
    }

    @Test
    void aGatherFlushesWhenItsCountOrTimeWindowIsReached() throws Exception {
        try (Rig r = rig(2)) {
            final SmpCall smp = r.smp();
            final Mmu byCount = Mmu.builder(smp).pageWords(PAGE).batchPages(4).batchWindow(Duration.ofMinutes(1)).build();
            final AddressSpace a = byCount.newAddressSpace(16);
            for (int vpn = 0; vpn < 10; vpn++) {
                a.map(vpn, vpn, Pte.READ | Pte.WRITE);
            }
            try (MmuGather g = a.gather()) {
                g.protect(0, 10, Pte.READ);
                assertThat(g.flushes()).isEqualTo(2);      // at 4 and at 8 pages
                assertThat(g.pendingPages()).isEqualTo(2); // the last two wait for close()
            }
            assertThat(a.stats().shootdowns()).isEqualTo(3);
            final Mmu byTime = Mmu.builder(smp).pageWords(PAGE).batchWindow(Duration.ZERO).build();
            final AddressSpace b = byTime.newAddressSpace(16);
            for (int vpn = 0; vpn < 5; vpn++) {
                b.map(vpn, vpn, Pte.READ | Pte.WRITE);
            }
            try (MmuGather g = b.gather()) {
                g.protect(0, 5, Pte.READ);
                assertThat(g.flushes()).isEqualTo(5);      // a zero window flushes at every change
            }
        }
    }

    @Test
    void aTargetDeafPastTheWatchdogIsReportedNotSkipped() throws Exception {
        try (Rig r = rig(2, Duration.ofMillis(100), Broadcast.flat())) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            warm(r, 1, 0);
            final var deaf = DeliveryTestSupport.holdInterruptsOff(r.machine().core(1));
            assertThatThrownBy(() -> as.protect(0, 1, Pte.READ)).isInstanceOfSatisfying(CallTimeoutException.class,
                e -> assertThat(e.cpus()).isEqualTo(CpuSet.of(1)));
            deaf.close();
            // Once it listens again, the queued flush runs: its write now faults.
            assertThatThrownBy(() -> r.machine().core(1).submit(() -> r.mmu().write(as, 0, 1)).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOf(PageFaultException.class);
        }
    }

    @Test
    void remapPublishesTheNewFrameAndFaultsArePrecise() throws Exception {
        try (Rig r = rig(2)) {
            final AddressSpace as = r.as();
            r.machine().memory().store(3L * PAGE, 111);
            r.machine().memory().store(4L * PAGE, 222);
            as.map(0, 3, Pte.READ);
            assertThat(r.machine().core(1).submit(() -> r.mmu().read(as, 0)).get()).isEqualTo(111);
            as.map(0, 4, Pte.READ);
            assertThat(r.machine().core(1).submit(() -> r.mmu().read(as, 0)).get()).isEqualTo(222);
            assertThatThrownBy(() -> r.machine().core(1).submit(() -> r.mmu().read(as, 5L * PAGE + 3)).get())
                .cause().isInstanceOfSatisfying(PageFaultException.class, pf -> {
                    assertThat(pf.address()).isEqualTo(5L * PAGE + 3);
                    assertThat(pf.getMessage()).contains("not present");
                });
            // Adding a right needs no shootdown: the fault path re-walks first.
            as.map(1, 5, Pte.READ);
            r.machine().core(1).submit(() -> r.mmu().read(as, PAGE)).get();
            final long before = as.stats().shootdowns();
            as.protect(1, 1, Pte.READ | Pte.WRITE);
            assertThat(as.stats().shootdowns()).isEqualTo(before);
            r.machine().core(1).submit(() -> r.mmu().write(as, PAGE, 7)).get(5, TimeUnit.SECONDS);
            assertThat(r.machine().memory().load(5L * PAGE)).isEqualTo(7);
        }
    }

    @Test
    void aSpaceNoCoreRunsNeedsNoIpiAndReturnsAtOnce() {
        try (Rig r = rig(2)) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            final long ipis = r.smp().ipisSent();
            as.protect(0, 1, Pte.READ);
            assertThat(r.smp().ipisSent()).isEqualTo(ipis);
            assertThat(as.stats().shootdowns()).isEqualTo(1);
            assertThat(as.stats().remoteTargets()).isZero();
            assertThat(as.generation()).isEqualTo(1);
            assertThat(as.pte(0).writable()).isFalse();
        }
    }

    @Test
    void badInputIsRefused() {
        try (Rig r = rig(2)) {
            assertThatThrownBy(() -> r.as().map(48, 1, Pte.READ)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> r.as().map(0, 64, Pte.READ)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("physical memory");
            assertThatThrownBy(() -> r.as().unmap(40, 10)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> r.mmu().read(r.as(), 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("core");
            assertThatThrownBy(() -> Mmu.builder(r.smp()).pageWords(48)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> r.mmu().newAddressSpace(0)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
