package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.DeliveryTestSupport;
import org.ipi4j.EndToEnd;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The MMU where it meets the other protocols: a change refused by the cross-call layer, ids that
 * meet in a TLB, a shootdown that fails while the space is turning global, and a broadcast
 * shootdown whose TLBSYNC meets a core that never leaves its translation.
 */
@EndToEnd
@Timeout(60)
class MmCompositionTest {
    static final int PAGE = ShootdownTest.PAGE;

    /**
     * A change of mappings made where its shootdown may not wait (a handler, interrupts off) is
     * refused before the page table changes. Before the fix the PTE was written and the
     * generation bumped first, then the shootdown refused: other cores kept writing through their
     * cached entry indefinitely.
     */
    @Test
    void aRefusedChangeLeavesThePageTableAsItWas() throws Exception {
        try (ShootdownTest.Rig r = ShootdownTest.rig(2)) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            as.map(1, 2, Pte.READ | Pte.WRITE);
            ShootdownTest.warm(r, 1, 0, 1);
            final long generation = as.generation();
            final Pte before0 = as.pte(0);
            final Pte before1 = as.pte(1);
            // With interrupts disabled on core 0, and inside a handler on core 0.
            final Throwable irqOff = r.machine().core(0).submit(() -> {
                final Core c = Core.current();
                final boolean flags = c.disableInterrupts();
                try {
                    as.protect(0, 1, Pte.READ);
                    return null;
                } catch (Throwable t) {
                    return t;
                } finally {
                    c.restoreInterrupts(flags);
                }
            }).get(10, TimeUnit.SECONDS);
            assertThat(irqOff).isInstanceOf(IllegalStateException.class).hasMessageContaining("deadlock hazard");
            final Vector v = Vector.of(0x60);
            final CountDownLatch done = new CountDownLatch(1);
            final Throwable[] inHandler = new Throwable[3];
            r.machine().interrupts().register(v, irq -> {
                try {
                    as.unmap(1, 1);
                } catch (Throwable t) {
                    inHandler[0] = t;
                }
                try (MmuGather g = as.gather()) {
                    g.protect(0, 2, 0);
                } catch (Throwable t) {
                    inHandler[1] = t;
                }
                try {
                    as.map(1, 3, Pte.READ);
                } catch (Throwable t) {
                    inHandler[2] = t;
                }
                done.countDown();
            });
            r.machine().interrupts().send(0, v, null);
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            for (final Throwable t : inHandler) {
                assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining("deadlock hazard");
            }
            assertThat(as.pte(0)).isEqualTo(before0);
            assertThat(as.pte(1)).isEqualTo(before1);
            assertThat(as.generation()).as("no shootdown was published").isEqualTo(generation);
            // Core 1 still writes through its entry, legitimately: nothing was revoked.
            r.machine().core(1).submit(() -> r.mmu().write(as, 0, 42)).get(10, TimeUnit.SECONDS);
            assertThat(as.stats().staleAccesses()).isZero();
        }
    }

    /** A change on a closed machine is refused before it touches the page table. */
    @Test
    void aChangeOnAClosedMachineChangesNothing() {
        final ShootdownTest.Rig r = ShootdownTest.rig(2);
        final AddressSpace as = r.as();
        as.map(0, 1, Pte.READ | Pte.WRITE);
        final Pte before = as.pte(0);
        r.machine().shutdown(Duration.ofSeconds(5));
        assertThatThrownBy(() -> as.protect(0, 1, Pte.READ)).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> as.gather().unmap(0, 1)).isInstanceOf(MachineClosedException.class);
        assertThat(as.pte(0)).isEqualTo(before);
    }

    /**
     * Address-space ids are never reused: a space whose id is 2^32 after an older live one's does
     * not meet that space's TLB entries. Before the fix ids were an int counter, and the new space
     * (id truncated to the old one's) read the old space's frame through its cached entry.
     */
    @Test
    void spacesWhoseIdsDifferBy2To32DoNotShareTlbEntries() throws Exception {
        try (ShootdownTest.Rig r = ShootdownTest.rig(2)) {
            final AddressSpace old = r.as();
            old.map(0, 1, Pte.READ | Pte.WRITE);
            r.machine().memory().store(1L * PAGE, 111); // frame 1, word 0
            r.machine().memory().store(2L * PAGE, 222); // frame 2, word 0
            assertThat(r.machine().core(1).submit(() -> {
                r.mmu().switchTo(old);
                return r.mmu().read(old, 0);
            }).get(10, TimeUnit.SECONDS)).isEqualTo(111L);
            r.mmu().nextAsid(old.asid() + (1L << 32));
            final AddressSpace young = r.mmu().newAddressSpace(48);
            young.map(0, 2, Pte.READ);
            assertThat(young.asid()).isNotEqualTo(old.asid());
            assertThat(r.machine().core(1).submit(() -> {
                r.mmu().switchTo(young);
                return r.mmu().read(young, 0);
            }).get(10, TimeUnit.SECONDS)).as("the young space reads its own frame").isEqualTo(222L);
        }
    }

    /**
     * The transition to a global ASID fails (a core does not answer its round): the space must not
     * be left global, since no round reached every core (before the fix it was).
     */
    @Test
    void aTransitionWhoseRoundFailsLeavesTheSpaceLocal() throws Exception {
        final ShootdownTest.Rig r = ShootdownTest.rig(3, Duration.ofMillis(100), Broadcast.flat());
        final Mmu mmu = Mmu.builder(r.smp()).pageWords(PAGE).detectStale(true).broadcastInvalidation(2).build();
        final AddressSpace as = mmu.newAddressSpace(8);
        as.map(0, 1, Pte.READ | Pte.WRITE);
        for (int cpu = 0; cpu < 3; cpu++) {
            r.machine().core(cpu).submit(() -> {
                mmu.switchTo(as);
                return mmu.read(as, 0);
            }).get(10, TimeUnit.SECONDS);
        }
        try (var deaf = org.ipi4j.DeliveryTestSupport.holdInterruptsOff(r.machine().core(2))) {
            assertThatThrownBy(() -> as.protect(0, 1, Pte.READ)).isInstanceOf(org.ipi4j.smp.CallTimeoutException.class);
            assertThat(as.isGlobal()).as("no round reached core 2").isFalse();
        }
        as.map(0, 1, Pte.READ | Pte.WRITE); // adds a right back: no shootdown
        as.protect(0, 1, Pte.READ); // the transition again; every core answers now
        assertThat(as.isGlobal()).isTrue();
        as.map(0, 1, Pte.READ | Pte.WRITE);
        as.protect(0, 1, Pte.READ); // by broadcast
        assertThat(as.broadcastShootdowns()).isEqualTo(1);
        r.close();
    }

    /**
     * A core is inside a translation of a global space and does not come out (code between
     * translate and endAccess, here held on a latch). TLBSYNC waits for it; before the fix it
     * spun for ever, so the shootdown never returned. Now it gives up as an IPI shootdown gives
     * up on a target that does not answer: after two watchdog periods, with a
     * CallTimeoutException naming and describing the core. And as a timed-out IPI flush still
     * runs when its core comes back, the core owes a flush: a walk of its that read the old PTE
     * and filled after TLBSYNC's last clear (done here by hand, as such a walk would) is dropped
     * at its next translation, so the revoked right is not used.
     */
    @Test
    void aBroadcastShootdownGivesUpOnACoreStuckInsideATranslationAndTheCoreFlushesWhenItComesBack() throws Exception {
        final Duration watchdog = Duration.ofMillis(100);
        final ShootdownTest.Rig r = ShootdownTest.rig(2, watchdog, Broadcast.flat());
        try {
            final Mmu mmu = Mmu.builder(r.smp()).pageWords(PAGE).broadcastInvalidation(2).build();
            final AddressSpace as = ShootdownTest.globalSpace(r, mmu);
            final long oldPte = as.pageTable().raw(0); // page 0 -> frame 1, writable
            final long oldVersion = as.pageTable().version(0);
            final AddressTranslation translation = mmu.translation(as);
            final CountDownLatch inside = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final CompletableFuture<Void> stuck = r.machine().core(1).submit(() -> {
                translation.translate(1, 0, 0, true); // the bracket is open
                inside.countDown();
                DeliveryTestSupport.await(release);
                mmu.tlb(1).fill(as.asid(), 0, oldPte, oldVersion); // a late fill from the old PTE
                translation.endAccess(1);
            });
            DeliveryTestSupport.await(inside);
            final long start = System.nanoTime();
            final Throwable timeout = catchThrowable(() -> as.protect(0, 1, Pte.READ));
            final long waited = System.nanoTime() - start;
            assertThat(timeout).isInstanceOf(CallTimeoutException.class)
                .hasMessageContaining("TLBSYNC").hasMessageContaining("core 1");
            assertThat(((CallTimeoutException) timeout).cpus()).isEqualTo(CpuSet.of(1));
            assertThat(waited).as("TLBSYNC waited two watchdog periods first").isGreaterThanOrEqualTo(2 * watchdog.toNanos());
            release.countDown();
            stuck.get(10, TimeUnit.SECONDS);
            final Throwable write = catchThrowable(() -> r.machine().core(1).submit(() -> mmu.write(as, 0, 7))
                .get(10, TimeUnit.SECONDS));
            assertThat(write).as("core 1 dropped its late entry: the revoked write right is gone")
                .hasCauseInstanceOf(PageFaultException.class);
            final Throwable write0 = catchThrowable(() -> r.machine().core(0).submit(() -> mmu.write(as, 0, 7))
                .get(10, TimeUnit.SECONDS));
            assertThat(write0).as("the core that was not stuck was cleared as usual").hasCauseInstanceOf(PageFaultException.class);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            as.protect(0, 1, Pte.READ); // every core out of its bracket: the next broadcast returns
            assertThat(as.broadcastShootdowns()).isEqualTo(1);
        } finally {
            r.close();
        }
    }
}
