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
    private int flushes;

    MmuGather(final Mmu mmu, final AddressSpace as) {
        this.mmu = mmu;
        this.as = as;
    }

    private void checkRange(final int vpn, final int count) {
        if (count < 0 || vpn < 0 || (long) vpn + count > as.pageTable().pages()) {
            throw new IllegalArgumentException("pages [" + vpn + ", " + ((long) vpn + count) + ") outside "
                + as + " of " + as.pageTable().pages() + " pages");
        }
    }

    /** Maps {@code vpn} to {@code frame}; a remap of a present page is queued for invalidation. */
    public MmuGather map(final int vpn, final long frame, final int perms) {
        checkRange(vpn, 1);
        mmu.checkFrame(frame);
        final long old;
        final long version;
        synchronized (as) {
            old = as.pageTable().raw(vpn);
            version = as.pageTable().write(vpn, Pte.encode(frame, perms));
        }
        if (Pte.present(old) && (Pte.frame(old) != frame || (Pte.perms(old) & ~perms) != 0)) {
            queue(vpn, version);
        }
        return this;
    }

    /** Unmaps {@code count} pages from {@code vpn}. */
    public MmuGather unmap(final int vpn, final int count) {
        return change(vpn, count, old -> Pte.NOT_PRESENT);
    }

    /** Sets the rights of {@code count} present pages from {@code vpn}. */
    public MmuGather protect(final int vpn, final int count, final int perms) {
        return change(vpn, count, old -> Pte.encode(Pte.frame(old), perms));
    }

    /**
     * Rewrites each present PTE in the range; queues the page for invalidation if the new entry
     * takes away a right or the frame (adding rights needs no shootdown: a fault re-walks).
     */
    private MmuGather change(final int vpn, final int count, final java.util.function.LongUnaryOperator rewrite) {
        checkRange(vpn, count);
        for (int p = vpn; p < vpn + count; p++) {
            final long old;
            long next = 0;
            long version = 0;
            synchronized (as) {
                old = as.pageTable().raw(p);
                if (Pte.present(old)) {
                    next = rewrite.applyAsLong(old);
                    version = as.pageTable().write(p, next);
                }
            }
            if (Pte.present(old) && (!Pte.present(next) || (Pte.perms(old) & ~Pte.perms(next)) != 0)) {
                queue(p, version);
            }
        }
        return this;
    }

    private void queue(final int vpn, final long version) {
        if (pending.isEmpty()) {
            firstChangeAt = System.nanoTime();
        }
        pending.put(vpn, (Long) version);
        if (pending.size() >= mmu.batchPages() || System.nanoTime() - firstChangeAt >= mmu.batchWindowNanos()) {
            flush();
        }
    }

    /** Pages changed but not yet shot down. */
    public int pendingPages() {
        return pending.size();
    }

    /** Shootdowns this gather has run. */
    public int flushes() {
        return flushes;
    }

    /** Shoots down everything queued; returns when no core can use the old translations. */
    public void flush() {
        if (pending.isEmpty()) {
            return;
        }
        final int[] vpns = new int[pending.size()];
        final long[] versions = new long[vpns.length];
        final int[] i = {0};
        pending.forEach((vpn, version) -> {
            vpns[i[0]] = vpn;
            versions[i[0]++] = version;
        });
        pending.clear();
        flushes++;
        mmu.shootdown(as, vpns, versions, firstChangeAt);
    }

    /** {@link #flush()}: the batch's changes are complete when this returns. */
    @Override
    public void close() {
        flush();
    }
}
