package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.ipi4j.Core;
import org.ipi4j.EndToEnd;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Program;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Review findings where the MMU's protocols meet: a gather's pending batch and a second
 * initiator's change of the same page, and a gather's flush refused after it emptied its batch.
 */
@EndToEnd
@Timeout(60)
class ReviewMmFindingsTest {
    static final int PAGE = ShootdownTest.PAGE;

    /**
     * A gather unmapped page 0 (core 1 still caches 0 -> frame 1: the batch is not flushed yet).
     * A second initiator (core 0) maps page 0 to frame 2. {@code remap} sees the page "not
     * present", so it runs no shootdown ("TLBs cache no absent pages"), but core 1's TLB does hold
     * the old translation of the absent page. After {@code map} returned, core 1 reads the old
     * frame through it. Linux has mm_tlb_flush_pending for this.
     */
    @RepeatedTest(3)
    void aMapAfterAGatheredUnmapOfThePageLeavesTheOldFrameReadable() throws Exception {
        try (ShootdownTest.Rig r = ShootdownTest.rig(2)) {
            final AddressSpace as = r.as();
            r.machine().memory().store(1L * PAGE, 111); // frame 1, word 0
            r.machine().memory().store(2L * PAGE, 222); // frame 2, word 0
            as.map(0, 1, Pte.READ | Pte.WRITE);
            ShootdownTest.warm(r, 1, 0);
            final MmuGather g = as.gather();
            g.unmap(0, 1);
            assertThat(g.pendingPages()).isEqualTo(1);
            r.machine().core(0).submit(() -> as.map(0, 2, Pte.READ)).get(10, TimeUnit.SECONDS);
            final long seen = r.machine().core(1).submit(() -> r.mmu().read(as, 0)).get(10, TimeUnit.SECONDS);
            g.close();
            assertThat(seen).as("map(0 -> frame 2) returned: core 1 reads frame 2").isEqualTo(222L);
        }
    }

    /**
     * The same with a second unmap: the rival's unmap finds the page already absent, shoots
     * nothing down and returns, and core 1 still writes frame 1 through its cached entry (the
     * frame an unmapper would free and reuse once unmap returned).
     */
    @RepeatedTest(3)
    void anUnmapAfterAGatheredUnmapReturnsWhileTheFrameIsStillWritable() throws Exception {
        try (ShootdownTest.Rig r = ShootdownTest.rig(2)) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            ShootdownTest.warm(r, 1, 0);
            r.machine().core(1).submit(() -> r.mmu().write(as, 0, 5)).get(10, TimeUnit.SECONDS); // fill with W
            final MmuGather g = as.gather();
            g.unmap(0, 1);
            r.machine().core(0).submit(() -> as.unmap(0, 1)).get(10, TimeUnit.SECONDS);
            Throwable t = null;
            try {
                r.machine().core(1).submit(() -> r.mmu().write(as, 0, 7)).get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                t = e.getCause();
            }
            g.close();
            assertThat(t).as("unmap returned: no core writes the page any more").isInstanceOf(PageFaultException.class);
        }
    }

    /**
     * A gather's changes were made where waiting is allowed; its close is refused (interrupts
     * off: "deadlock hazard"). flush() had already moved the batch into the shootdown and cleared
     * it, so the refusal loses the batch: a retried close() is a no-op, and core 1 keeps writing
     * through the write right the gather took away.
     */
    @RepeatedTest(3)
    void aRefusedGatherFlushKeepsItsBatch() throws Exception {
        try (ShootdownTest.Rig r = ShootdownTest.rig(2)) {
            final AddressSpace as = r.as();
            as.map(0, 1, Pte.READ | Pte.WRITE);
            ShootdownTest.warm(r, 1, 0);
            r.machine().core(1).submit(() -> r.mmu().write(as, 0, 5)).get(10, TimeUnit.SECONDS);
            final int[] pendingAfterRefusal = {-1};
            final Throwable refused = r.machine().core(0).submit(() -> {
                final MmuGather g = as.gather();
                g.protect(0, 1, Pte.READ);
                final Core c = Core.current();
                final boolean flags = c.disableInterrupts();
                Throwable why = null;
                try {
                    g.close();
                } catch (Throwable e) {
                    why = e;
                } finally {
                    c.restoreInterrupts(flags);
                }
                pendingAfterRefusal[0] = g.pendingPages();
                g.close(); // retried where it may wait
                return why;
            }).get(10, TimeUnit.SECONDS);
            assertThat(refused).isInstanceOf(IllegalStateException.class).hasMessageContaining("deadlock hazard");
            assertThatThrownBy(() -> r.machine().core(1).submit(() -> r.mmu().write(as, 0, 7)).get(10, TimeUnit.SECONDS))
                .as("the gather was closed again successfully: the write right is gone on every core")
                .hasCauseInstanceOf(PageFaultException.class);
            assertThat(pendingAfterRefusal[0]).as("a refused flush keeps its batch").isEqualTo(1);
        }
    }

    /**
     * AddressTranslation is a functional interface whose endAccess defaults to nothing, so a
     * decorator written as a lambda around {@code mmu.translation(as)} (counting, logging) drops
     * the bracket's close. Mmu.translate then does not notice the odd epoch it finds: it writes
     * epoch + 1, which is even, so every other access runs with the bracket "closed" (a
     * broadcast's TLBSYNC does not wait for it) and the others leave it open for ever. Here the
     * one access leaves core 1's epoch odd, and the next broadcast shootdown spins in tlbSync
     * until core 1 happens to translate again.
     */
    @RepeatedTest(3)
    void aTranslationDecoratorClosesTheBracketAndTheNextBroadcastShootdownReturns() throws Exception {
        final ShootdownTest.Rig r = ShootdownTest.rig(2);
        try {
            final Mmu mmu = Mmu.builder(r.smp()).pageWords(PAGE).broadcastInvalidation(2).build();
            final AddressSpace as = ShootdownTest.globalSpace(r, mmu);
            final AddressTranslation inner = mmu.translation(as);
            // endAccess is abstract now: a wrapper has to say what it does with it, and delegates.
            final AddressTranslation counting = new AddressTranslation() {
                @Override
                public long translate(final int cpu, final long epc, final long address, final boolean write) {
                    return inner.translate(cpu, epc, address, write);
                }

                @Override
                public void endAccess(final int cpu) {
                    inner.endAccess(cpu);
                }
            };
            final Program oneLoad = Program.builder().load(0, 0).build();
            r.machine().core(1).execute(oneLoad, Mode.KERNEL, counting).get(10, TimeUnit.SECONDS);
            final CompletableFuture<Void> shootdown = CompletableFuture.runAsync(() -> as.protect(0, 1, Pte.READ));
            boolean returned;
            try {
                shootdown.get(5, TimeUnit.SECONDS);
                returned = true;
            } catch (TimeoutException e) {
                returned = false;
                // Unstick it: one more access flips core 1's epoch (to even: the inversion).
                r.machine().core(1).execute(oneLoad, Mode.KERNEL, counting).get(10, TimeUnit.SECONDS);
                shootdown.get(10, TimeUnit.SECONDS);
            }
            assertThat(returned).as("a broadcast shootdown with every core idle returns").isTrue();
        } finally {
            r.close();
        }
    }
}
