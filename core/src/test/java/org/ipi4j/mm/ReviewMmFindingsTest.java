package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.interrupts.PageFaultException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Review findings where the MMU's protocols meet: a gather's pending batch and a second
 * initiator's change of the same page, and a gather's flush refused after it emptied its batch.
 */
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
}
