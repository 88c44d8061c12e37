package org.ipi4j.mm;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.ConcurrentHistogram;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.observability.Percentiles;

/**
 * An address space (Linux's mm): a shared {@link PageTable}, the cpumask of cores that have used
 * it, and a generation counter bumped by every flush (like {@code tlb_gen}).
 *
 * <h2>Changing mappings</h2>
 * {@link #map}, {@link #unmap} and {@link #protect} update the PTEs and, where a core could
 * still hold the old translation, run a TLB shootdown before returning: when they return, no core
 * can translate through the revoked entry any more. Mapping a page that was not present, or
 * adding rights, needs no shootdown (TLBs cache no absent pages, and a fault re-walks first).
 * Use {@link #gather()} to batch many changes into one shootdown.
 *
 * <p>Thread-safe: changes are serialised per address space; translations never lock.
 */
public final class AddressSpace {
    private static final java.lang.invoke.VarHandle SCOPE;

    static {
        try {
            SCOPE = java.lang.invoke.MethodHandles.lookup().findVarHandle(AddressSpace.class, "scope", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Mmu mmu;
    private final long asid;
    private final PageTable table;
    private final AtomicLongArray cpumask;
    /** Translated without a bracket, shot down with IPIs: every space starts here. */
    static final int LOCAL = 0;
    /**
     * Going global: translations are bracketed already, but shootdowns still use IPIs, since a
     * core may still be inside a translation it began unbracketed. Left for GLOBAL only once an
     * IPI round has reached every core after this state was published (Mmu.run).
     */
    static final int TRANSITION = 1;
    /** Global ASID: translations bracketed, shootdowns by broadcast invalidation (no IPI). */
    static final int GLOBAL = 2;
    /** LOCAL, TRANSITION or GLOBAL; volatile: read by every translation, written by initiators. */
    volatile int scope;
    final LongAdder broadcasts = new LongAdder();
    /**
     * Gathers holding changes of this space they have not shot down yet (Linux's
     * {@code mm_tlb_flush_pending}). While it is not 0 a core's TLB may hold a translation the
     * page table no longer shows, so a change that looks as if it needs no shootdown (an absent
     * page mapped, a right added) shoots the page down anyway. A gather raises it before its first
     * page-table write and lowers it after its shootdown returned; the page-table lock orders the
     * raise before a rival's read (partner: {@link #flushPending()} after the rival's write).
     */
    private final java.util.concurrent.atomic.AtomicInteger pendingGathers = new java.util.concurrent.atomic.AtomicInteger();
    final AtomicLong generation = new AtomicLong();
    /**
     * Per core, at {@code (cpu + 1) * SYNC_STRIDE}: the generation that core's TLB is in sync with
     * for this space. Read and written only by that core (in its run loop or its flush handler),
     * so plain. Padded, because a core's store would otherwise take the line of its neighbour's
     * slot: in {@code SlotPaddingBench} (two threads each storing its own slot, 2-CPU host,
     * {@code -f 2 -wi 3 -i 5}) padded slots gave 1.8x, 1.9x and 1.7x the throughput of adjacent
     * ones for this store alone (median of the iterations, padded over adjacent, three runs), and
     * with the volatile store of Mmu's running slot, the whole switch, 3.9x to 7.2x.
     */
    private final long[] syncedGeneration;
    /** Longs per slot of {@link #syncedGeneration}: 128 bytes, as SendGate's. */
    private static final int SYNC_STRIDE = 16;
    private final long createdAt;

    // ---- measurements -------------------------------------------------------------------
    final LongAdder shootdowns = new LongAdder();
    final LongAdder remoteTargets = new LongAdder();
    final LongAdder lazySkips = new LongAdder();
    final LongAdder fullFlushes = new LongAdder();
    final LongAdder stalledCoreNanos = new LongAdder();
    final LongAdder staleAccesses = new LongAdder();
    final LongAdder violations = new LongAdder();
    final ConcurrentHistogram window = new ConcurrentHistogram(3);
    final ConcurrentHistogram delivery = new ConcurrentHistogram(3);
    final ConcurrentHistogram irqOffDelay = new ConcurrentHistogram(3);
    final ConcurrentHistogram handler = new ConcurrentHistogram(3);
    final ConcurrentLinkedQueue<StaleAccess> staleLog = new ConcurrentLinkedQueue<>();

    AddressSpace(final Mmu mmu, final long asid, final int pages, final int cores) {
        this.mmu = mmu;
        this.createdAt = mmu.timeline.nanoTime();
        this.asid = asid;
        this.table = new PageTable(pages);
        this.cpumask = new AtomicLongArray((cores + 63) / 64);
        this.syncedGeneration = new long[(cores + 2) * SYNC_STRIDE]; // a block before the first slot and after the last
    }

    /** {@return the generation core {@code cpu}'s TLB is in sync with} Core {@code cpu} only. */
    long syncedGeneration(final int cpu) {
        return syncedGeneration[(cpu + 1) * SYNC_STRIDE];
    }

    /** Core {@code cpu}'s TLB is in sync with generation {@code gen}. Core {@code cpu} only. */
    void syncedGeneration(final int cpu, final long gen) {
        syncedGeneration[(cpu + 1) * SYNC_STRIDE] = gen;
    }

    /** {@return address-space id: the tag of this space's TLB entries} */
    public long asid() {
        return asid;
    }

    /** {@return the page table} */
    public PageTable pageTable() {
        return table;
    }

    /** {@return current generation: the number of flushes started} */
    public long generation() {
        return generation.get();
    }

    /** {@return cores that have switched to this space (running it now, or lazily keeping it)} */
    public CpuSet cpumask() {
        CpuSet s = CpuSet.empty();
        for (int w = 0; w < cpumask.length(); w++) {
            long bits = cpumask.get(w);
            while (bits != 0) {
                s = s.with(w * 64 + Long.numberOfTrailingZeros(bits));
                bits &= bits - 1;
            }
        }
        return s;
    }

    /** {@return how many cores have switched to this space (its cpumask's size)} */
    int activeCores() {
        int n = 0;
        for (int w = 0; w < cpumask.length(); w++) {
            n += Long.bitCount(cpumask.get(w));
        }
        return n;
    }

    /** {@return true once this space has a global ASID: its shootdowns are broadcast, without IPIs} */
    public boolean isGlobal() {
        return scope == GLOBAL;
    }

    /** LOCAL to TRANSITION, once: {@return true for the initiator that won} */
    boolean beginTransition() {
        return SCOPE.compareAndSet(this, LOCAL, TRANSITION);
    }

    /** {@return shootdowns of this space made by broadcast invalidation (no IPI)} */
    public long broadcastShootdowns() {
        return broadcasts.sum();
    }

    boolean inMask(final int cpu) {
        return (cpumask.get(cpu >>> 6) & (1L << cpu)) != 0;
    }

    void addToMask(final int cpu) {
        if (!inMask(cpu)) {
            cpumask.getAndAccumulate(cpu >>> 6, 1L << cpu, (a, b) -> a | b);
        }
    }

    // ---- changing mappings --------------------------------------------------------------

    /**
     * Maps {@code vpn} to physical frame {@code frame} with {@code perms}. If the page was
     * already present (a remap), shoots down the old translation before returning.
     *
     * @param frame the physical frame number
     * @param perms the access rights, a combination of {@link Pte} flags
     * @param vpn the virtual page number
     * @throws IllegalArgumentException if the page or frame is out of range
     * @throws IllegalStateException if called on a core inside a handler or with interrupts disabled
     *                               (its shootdown would wait where that is a deadlock hazard); nothing changed
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closed; nothing changed
     */
    public void map(final int vpn, final long frame, final int perms) {
        checkRange(vpn, 1);
        mmu.checkFrame(frame);
        mmu.checkMayChange(); // before the page table changes: a refused map changed nothing
        final Shootdown sd = mmu.beginShootdown(this);
        try {
            final long version = remap(vpn, frame, perms);
            if (version >= 0) {
                sd.add(vpn, version);
            } else if (flushPending()) {
                sd.add(vpn, table.version(vpn)); // a gather's unflushed change may still be cached somewhere
            }
        } finally {
            mmu.shootdown(sd);
        }
    }

    /**
     * Unmaps {@code count} pages from {@code vpn}; returns after the shootdown.
     *
     * @param vpn the first virtual page
     * @param count how many pages
     * @throws IllegalStateException if called on a core inside a handler or with interrupts disabled
     *                               (its shootdown would wait where that is a deadlock hazard); nothing changed
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closed; nothing changed
     */
    public void unmap(final int vpn, final int count) {
        rewrite(vpn, count, true, 0);
    }

    /**
     * Sets the rights of {@code count} pages from {@code vpn} to {@code perms}; if any right was
     * taken away, returns only after the shootdown. Allocates nothing.
     *
     * @param perms the access rights, a combination of {@link Pte} flags
     * @param vpn the first virtual page
     * @param count how many pages
     * @throws IllegalStateException if called on a core inside a handler or with interrupts disabled
     *                               (its shootdown would wait where that is a deadlock hazard); nothing changed
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closed; nothing changed
     */
    public void protect(final int vpn, final int count, final int perms) {
        rewrite(vpn, count, false, perms);
    }

    /** Unmaps or re-protects a range, then runs one shootdown (the caller's reusable one) for it. */
    private void rewrite(final int vpn, final int count, final boolean unmap, final int perms) {
        checkRange(vpn, count);
        mmu.checkMayChange(); // before the page table changes: a refused change changed nothing
        final Shootdown sd = mmu.beginShootdown(this);
        try {
            for (int p = vpn; p < vpn + count; p++) {
                final long version = change(p, unmap, perms);
                if (version >= 0) {
                    sd.add(p, version);
                } else if (flushPending()) { // after our write (partner: a gather's raise before its write)
                    sd.add(p, table.version(p)); // a gather's unflushed change may still be cached somewhere
                }
            }
        } finally {
            mmu.shootdown(sd); // whatever was changed is shot down, even if something threw
        }
    }

    void checkRange(final int vpn, final int count) {
        if (count < 0 || vpn < 0 || (long) vpn + count > table.pages()) {
            throw new IllegalArgumentException("pages [" + vpn + ", " + ((long) vpn + count) + ") outside "
                + this + " of " + table.pages() + " pages");
        }
    }

    /**
     * Writes the PTE of {@code vpn}. Returns the new version if an old translation must be shot
     * down (the page was present and loses its frame or a right), or -1.
     */
    long remap(final int vpn, final long frame, final int perms) {
        final long old;
        final long version;
        synchronized (this) {
            old = table.raw(vpn);
            version = table.write(vpn, Pte.encode(frame, perms));
        }
        return Pte.present(old) && (Pte.frame(old) != frame || (Pte.perms(old) & ~perms) != 0) ? version : -1;
    }

    /** A gather is about to change this space's page table without shooting down yet. */
    void beginPendingFlush() {
        pendingGathers.incrementAndGet();
    }

    /** A gather's changes are shot down (or it holds none any more). */
    void endPendingFlush() {
        pendingGathers.decrementAndGet();
    }

    /** {@return true while some gather holds changes it has not shot down} Read after one's own page-table write. */
    boolean flushPending() {
        return pendingGathers.get() != 0;
    }

    /**
     * Unmaps page {@code p}, or sets its rights to {@code perms}, if it is present. Returns the new
     * version if the change takes away the frame or a right (adding rights needs no shootdown: a
     * fault re-walks first), or -1.
     */
    long change(final int p, final boolean unmap, final int perms) {
        final long old;
        long next = 0;
        long version = 0;
        synchronized (this) {
            old = table.raw(p);
            if (Pte.present(old)) {
                next = unmap ? Pte.NOT_PRESENT : Pte.encode(Pte.frame(old), perms);
                version = table.write(p, next);
            }
        }
        return Pte.present(old) && (!Pte.present(next) || (Pte.perms(old) & ~Pte.perms(next)) != 0) ? version : -1;
    }

    /**
     * A batch: changes made through it are applied to the page table at once but shot down
     * together, with one IPI per target, when the batch fills up, its time window has passed
     * (checked at each change), or it is closed. Until then other cores may still use the old
     * translations; the changes are complete only when {@link MmuGather#close()} returns.
     *
     * @return a new gather for this space, owned by the calling thread
     */
    public MmuGather gather() {
        return new MmuGather(mmu, this);
    }

    /**
     * The entry for {@code vpn}.
     *
     * @param vpn the virtual page number, 0 to {@code pages() - 1}
     * @return the page's entry (a snapshot)
     * @throws IllegalArgumentException if the page is outside this space
     */
    public Pte pte(final int vpn) {
        checkRange(vpn, 1);
        return table.get(vpn);
    }

    /** {@return translations served from revoked entries, the first 1000 of them} */
    public java.util.List<StaleAccess> staleAccessLog() {
        return java.util.List.copyOf(staleLog);
    }

    /** {@return what this space's shootdowns cost so far} */
    public ShootdownStats stats() {
        final long elapsed = Math.max(1, mmu.timeline.nanoTime() - createdAt);
        return new ShootdownStats(shootdowns.sum(), remoteTargets.sum(), lazySkips.sum(), fullFlushes.sum(),
            Percentiles.of(window.copy()), Percentiles.of(delivery.copy()), Percentiles.of(irqOffDelay.copy()),
            Percentiles.of(handler.copy()), stalledCoreNanos.sum(), (double) stalledCoreNanos.sum() / elapsed,
            staleAccesses.sum(), violations.sum());
    }

    @Override
    public String toString() {
        return "AddressSpace[asid " + asid + ", " + table.pages() + " pages, gen " + generation() + ", cpumask " + cpumask() + "]";
    }
}
