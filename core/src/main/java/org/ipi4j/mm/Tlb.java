package org.ipi4j.mm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.ipi4j.observability.Counter;

/**
 * One core's translation lookaside buffer: small, direct-mapped, tagged by address-space id.
 *
 * <p>Owned by its core: only that core's thread fills, looks up and flushes it (remote flushes
 * arrive as IPIs and run on the owner), with one exception: broadcast invalidation of a global
 * address space (the INVLPGB model, see {@link Mmu}) clears entries from the initiator's thread,
 * with volatile stores to {@code valid}; the owner then looks entries of such a space up with a
 * volatile load, and fills publish {@code valid} last with a release store. Other threads may
 * read the counters at any time.
 */
public final class Tlb {
    private static final VarHandle VALID = MethodHandles.arrayElementVarHandle(boolean[].class);

    private final int cpu;
    private final int mask;
    private final boolean[] valid;
    private final long[] asid;
    private final int[] vpn;
    private final long[] pte;
    private final long[] version;

    private final Counter hits = new Counter();
    private final Counter misses = new Counter();
    private final Counter pageFlushes = new Counter();
    private final Counter fullFlushes = new Counter();
    /** Broadcast invalidations made by other threads (many writers). */
    private final java.util.concurrent.atomic.LongAdder remoteInvalidations = new java.util.concurrent.atomic.LongAdder();

    Tlb(final int cpu, final int entries) {
        if (Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("TLB entries must be a power of two, not " + entries);
        }
        this.cpu = cpu;
        this.mask = entries - 1;
        this.valid = new boolean[entries];
        this.asid = new long[entries];
        this.vpn = new int[entries];
        this.pte = new long[entries];
        this.version = new long[entries];
    }

    private int slot(final long as, final int page) {
        return (page ^ (int) ((as * 0x9E3779B97F4A7C15L) >>> 32)) & mask;
    }

    /** Slot holding {@code (as, page)}, or -1. Counts a hit or a miss. */
    int lookup(final long as, final int page) {
        final int s = slot(as, page);
        if (valid[s] && asid[s] == as && vpn[s] == page) {
            hits.increment();
            return s;
        }
        misses.increment();
        return -1;
    }

    /**
     * {@link #lookup} for a global space, whose entries other threads may clear: a volatile load
     * of {@code valid} (partner: the initiator's volatile store in {@link #invalidateRemote},
     * followed by its read of the owner's translation epoch).
     */
    int lookupSynchronized(final long as, final int page) {
        final int s = slot(as, page);
        if ((boolean) VALID.getVolatile(valid, s) && asid[s] == as && vpn[s] == page) {
            hits.increment();
            return s;
        }
        misses.increment();
        return -1;
    }

    long pte(final int slot) {
        return pte[slot];
    }

    long version(final int slot) {
        return version[slot];
    }

    void fill(final long as, final int page, final long raw, final long ver) {
        final int s = slot(as, page);
        // Cleared first, published last. A remote invalidator that reads the final release sees the
        // whole new entry; one that still read the old "true" may see any mix of old and new tag
        // fields (nothing orders these plain stores against it). It then either clears the slot
        // (harmless: the owner walks again) or skips it because the tag is not the one it revokes,
        // and then the slot no longer holds that translation once this fill is done. A racing fill
        // of the revoked translation itself is caught by TLBSYNC's second pass (Mmu.tlbSync).
        VALID.setOpaque(valid, s, false);
        asid[s] = as;
        vpn[s] = page;
        pte[s] = raw;
        version[s] = ver;
        VALID.setRelease(valid, s, true); // last: an invalidator that reads it true sees the tag
    }

    /**
     * Broadcast invalidation from another thread: clears the entry for {@code (as, page)} if
     * this TLB holds it. A volatile store; a racing fill of the same slot may be cleared too
     * (harmless: the owner walks again).
     */
    void invalidateRemote(final long as, final int page) {
        final int s = slot(as, page);
        if ((boolean) VALID.getAcquire(valid, s) && asid[s] == as && vpn[s] == page) {
            VALID.setVolatile(valid, s, false);
        }
        remoteInvalidations.increment();
    }

    /** Broadcast invalidation of every entry of {@code as} from another thread (a full flush). */
    void invalidateRemoteAll(final long as) {
        for (int s = 0; s <= mask; s++) {
            if ((boolean) VALID.getAcquire(valid, s) && asid[s] == as) {
                VALID.setVolatile(valid, s, false);
            }
        }
        remoteInvalidations.increment();
    }

    void flushPage(final long as, final int page) {
        final int s = slot(as, page);
        if (valid[s] && asid[s] == as && vpn[s] == page) {
            valid[s] = false;
        }
        pageFlushes.increment();
    }

    void flushAll(final long as) {
        for (int s = 0; s <= mask; s++) {
            if (asid[s] == as) {
                valid[s] = false;
            }
        }
        fullFlushes.increment();
    }

    /** Invalidates every entry of every space: a PV flush on resume. Owner only. */
    void flushEverything() {
        java.util.Arrays.fill(valid, false);
        fullFlushes.increment();
    }

    /** Valid entries for {@code as} (owner thread, or after the core stopped). */
    int entriesFor(final long as) {
        int n = 0;
        for (int s = 0; s <= mask; s++) {
            if (valid[s] && asid[s] == as) {
                n++;
            }
        }
        return n;
    }

    /** {@return the core this TLB belongs to} */
    public int cpu() {
        return cpu;
    }

    /** {@return entries in this TLB} */
    public int capacity() {
        return mask + 1;
    }

    /** {@return translations served from this TLB} */
    public long hits() {
        return hits.get();
    }

    /** {@return translations that had to walk the page table} */
    public long misses() {
        return misses.get();
    }

    /** {@return invalidations other cores made directly in this TLB (broadcast, no interrupt)} */
    public long remoteInvalidations() {
        return remoteInvalidations.sum();
    }

    /** {@return single-page invalidations} */
    public long pageFlushes() {
        return pageFlushes.get();
    }

    /** {@return whole-address-space flushes} */
    public long fullFlushes() {
        return fullFlushes.get();
    }
}
