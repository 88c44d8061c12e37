package org.ipi4j.mm;

import org.ipi4j.observability.Counter;

/**
 * One core's translation lookaside buffer: small, direct-mapped, tagged by address-space id.
 *
 * <p>Owned by its core: only that core's thread fills, looks up and flushes it (remote flushes
 * arrive as IPIs and run on the owner). Other threads may read the counters at any time.
 */
public final class Tlb {
    private final int cpu;
    private final int mask;
    private final boolean[] valid;
    private final int[] asid;
    private final int[] vpn;
    private final long[] pte;
    private final long[] version;

    private final Counter hits = new Counter();
    private final Counter misses = new Counter();
    private final Counter pageFlushes = new Counter();
    private final Counter fullFlushes = new Counter();

    Tlb(final int cpu, final int entries) {
        if (Integer.bitCount(entries) != 1) {
            throw new IllegalArgumentException("TLB entries must be a power of two, not " + entries);
        }
        this.cpu = cpu;
        this.mask = entries - 1;
        this.valid = new boolean[entries];
        this.asid = new int[entries];
        this.vpn = new int[entries];
        this.pte = new long[entries];
        this.version = new long[entries];
    }

    private int slot(final int as, final int page) {
        return (page ^ (as * 0x9E3779B1)) & mask;
    }

    /** Slot holding {@code (as, page)}, or -1. Counts a hit or a miss. */
    int lookup(final int as, final int page) {
        final int s = slot(as, page);
        if (valid[s] && asid[s] == as && vpn[s] == page) {
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

    void fill(final int as, final int page, final long raw, final long ver) {
        final int s = slot(as, page);
        valid[s] = true;
        asid[s] = as;
        vpn[s] = page;
        pte[s] = raw;
        version[s] = ver;
    }

    void flushPage(final int as, final int page) {
        final int s = slot(as, page);
        if (valid[s] && asid[s] == as && vpn[s] == page) {
            valid[s] = false;
        }
        pageFlushes.increment();
    }

    void flushAll(final int as) {
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
    int entriesFor(final int as) {
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

    /** {@return single-page invalidations} */
    public long pageFlushes() {
        return pageFlushes.get();
    }

    /** {@return whole-address-space flushes} */
    public long fullFlushes() {
        return fullFlushes.get();
    }
}
