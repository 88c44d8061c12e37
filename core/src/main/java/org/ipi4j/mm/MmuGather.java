package org.ipi4j.mm;

import org.agrona.collections.Int2ObjectHashMap;

/**
 * A batch of mapping changes shot down together, like Linux's {@code mmu_gather}: every change
 * is applied to the page table at once, the pages whose old translations must go are collected,
 * and one shootdown (one IPI per target, carrying every page, or a full flush above the ceiling)
 * covers them all.
 *
 * <p>The batch is flushed when it holds {@code batchPages} pages, when a change arrives after
 * its time window has passed, on {@link #flush()}, and on {@link #close()}. Until then other
 * cores may still use the old translations: a change is complete only when the flush that covers
 * it returns. Not thread-safe: one thread uses a gather, then closes it.
 */
public final class MmuGather implements AutoCloseable {
    private final Mmu mmu;
    private final AddressSpace as;
    /** vpn -> version our change produced, for pages that need invalidation. */
    private final Int2ObjectHashMap<Long> pending = new Int2ObjectHashMap<>();
    private long firstChangeAt;
    /** True while this gather counts in its space's pending gathers (from its first change to its flush). */
    private boolean counted;
    private int flushes;

    MmuGather(final Mmu mmu, final AddressSpace as) {
        this.mmu = mmu;
        this.as = as;
    }

    /**
     * Maps {@code vpn} to {@code frame}; a remap of a present page is queued for invalidation.
     *
     * @param frame the physical frame number
     * @param perms the access rights, a combination of {@link Pte} flags
     * @param vpn the virtual page number
     * @return this gather
     */
    public MmuGather map(final int vpn, final long frame, final int perms) {
        as.checkRange(vpn, 1);
        mmu.checkFrame(frame);
        mmu.checkMayChange(); // its flush may come at once: refuse before the PTE changes
        countIn();
        final long version = as.remap(vpn, frame, perms);
        if (version >= 0) {
            queue(vpn, version);
        }
        return this;
    }

    /**
     * Unmaps {@code count} pages from {@code vpn}.
     *
     * @param vpn the first virtual page
     * @param count how many pages
     * @return this gather
     */
    public MmuGather unmap(final int vpn, final int count) {
        return change(vpn, count, true, 0);
    }

    /**
     * Sets the rights of {@code count} present pages from {@code vpn}.
     *
     * @param perms the access rights, a combination of {@link Pte} flags
     * @param vpn the first virtual page
     * @param count how many pages
     * @return this gather
     */
    public MmuGather protect(final int vpn, final int count, final int perms) {
        return change(vpn, count, false, perms);
    }

    private MmuGather change(final int vpn, final int count, final boolean unmap, final int perms) {
        as.checkRange(vpn, count);
        mmu.checkMayChange(); // its flush may come at once: refuse before the PTE changes
        countIn();
        for (int p = vpn; p < vpn + count; p++) {
            final long version = as.change(p, unmap, perms);
            if (version >= 0) {
                queue(p, version);
            }
        }
        return this;
    }

    /** Before the first page-table write of a batch: rivals must not skip a shootdown meanwhile. */
    private void countIn() {
        if (!counted) {
            as.beginPendingFlush();
            counted = true;
        }
    }

    private void countOut() {
        if (counted) {
            counted = false;
            as.endPendingFlush();
        }
    }

    private void queue(final int vpn, final long version) {
        if (pending.isEmpty()) {
            firstChangeAt = mmu.timeline.nanoTime();
        }
        pending.put(vpn, (Long) version);
        if (pending.size() >= mmu.batchPages() || mmu.timeline.nanoTime() - firstChangeAt >= mmu.batchWindowNanos()) {
            flush();
        }
    }

    /** {@return pages changed but not yet shot down} */
    public int pendingPages() {
        return pending.size();
    }

    /** {@return shootdowns this gather has run} */
    public int flushes() {
        return flushes;
    }

    /** Shoots down everything queued; returns when no core can use the old translations. */
    public void flush() {
        if (pending.isEmpty()) {
            countOut(); // changes that needed no shootdown: nothing of ours can be cached
            return;
        }
        mmu.checkMayChange();
        final Shootdown sd = mmu.beginShootdown(as);
        pending.forEach(sd::add);
        sd.firstChangeAt = firstChangeAt;
        // A shootdown that throws (a timeout, a closing machine) keeps the batch: a retry, or
        // close(), shoots it down again; the space stays marked as having a flush pending.
        mmu.shootdown(sd);
        pending.clear();
        flushes++;
        countOut();
    }

    /** {@link #flush()}: the batch's changes are complete when this returns. */
    @Override
    public void close() {
        flush();
    }
}
