package org.ipi4j.mm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A flat page table shared by every core: one PTE per virtual page, plus a per-page version
 * (bumped by every change) that the stale-access detector uses.
 *
 * <p>PTE writes are release stores and page walks are acquire loads: a walk that sees a new PTE
 * sees everything written before it. Writers are serialised by their {@link AddressSpace};
 * readers never lock.
 */
public final class PageTable {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] entries;
    private final long[] versions;
    /** Highest version per page whose shootdown has returned. */
    private final long[] completed;

    PageTable(final int pages) {
        this.entries = new long[pages];
        this.versions = new long[pages];
        this.completed = new long[pages];
    }

    /** {@return number of virtual pages} */
    public int pages() {
        return entries.length;
    }

    /**
     * {@return the entry for {@code vpn} (acquire)}
     *
     * @param vpn the virtual page number
     */
    public Pte get(final int vpn) {
        return Pte.decode(raw(vpn));
    }

    long raw(final int vpn) {
        return (long) LONGS.getAcquire(entries, vpn);
    }

    long version(final int vpn) {
        return (long) LONGS.getAcquire(versions, vpn);
    }

    long completed(final int vpn) {
        return (long) LONGS.getAcquire(completed, vpn);
    }

    /** Writes a PTE (release) and returns the new version of the page. Caller holds the AS lock. */
    long write(final int vpn, final long raw) {
        final long v = versions[vpn] + 1;
        // Version first: a walker reads the version, then the PTE, so the version it caches is
        // never newer than the PTE it caches.
        LONGS.setRelease(versions, vpn, v);
        LONGS.setRelease(entries, vpn, raw);
        return v;
    }

    void complete(final int vpn, final long version) {
        long cur;
        do {
            cur = (long) LONGS.getAcquire(completed, vpn);
            if (cur >= version) {
                return;
            }
        } while (!LONGS.compareAndSet(completed, vpn, cur, version));
    }
}
