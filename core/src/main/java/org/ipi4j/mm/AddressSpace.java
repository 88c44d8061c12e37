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
    private final Mmu mmu;
    private final int asid;
    private final PageTable table;
    private final AtomicLongArray cpumask;
    final AtomicLong generation = new AtomicLong();
    /**
     * Per core: the generation that core's TLB is in sync with for this space. Element i is
     * read and written only by core i (in its run loop or its flush handler).
     */
    final long[] syncedGeneration;
    private final long createdAt = System.nanoTime();

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

    AddressSpace(final Mmu mmu, final int asid, final int pages, final int cores) {
        this.mmu = mmu;
        this.asid = asid;
        this.table = new PageTable(pages);
        this.cpumask = new AtomicLongArray((cores + 63) / 64);
        this.syncedGeneration = new long[cores];
    }

    /** Address-space id: the tag of this space's TLB entries. */
    public int asid() {
        return asid;
    }

    /** The page table. */
    public PageTable pageTable() {
        return table;
    }

    /** Current generation: the number of flushes started. */
    public long generation() {
        return generation.get();
    }

    /** Cores that have switched to this space (running it now, or lazily keeping it). */
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
     * @throws IllegalArgumentException if the page or frame is out of range
     */
    public void map(final int vpn, final long frame, final int perms) {
        try (MmuGather g = gather()) {
            g.map(vpn, frame, perms);
        }
    }

    /** Unmaps {@code count} pages from {@code vpn}; returns after the shootdown. */
    public void unmap(final int vpn, final int count) {
        try (MmuGather g = gather()) {
            g.unmap(vpn, count);
        }
    }

    /**
     * Sets the rights of {@code count} pages from {@code vpn} to {@code perms}; if any right was
     * taken away, returns only after the shootdown.
     */
    public void protect(final int vpn, final int count, final int perms) {
        try (MmuGather g = gather()) {
            g.protect(vpn, count, perms);
        }
    }

    /**
     * A batch: changes made through it are applied to the page table at once but shot down
     * together, with one IPI per target, when the batch fills up, its time window has passed
     * (checked at each change), or it is closed. Until then other cores may still use the old
     * translations; the changes are complete only when {@link MmuGather#close()} returns.
     */
    public MmuGather gather() {
        return new MmuGather(mmu, this);
    }

    /** The entry for {@code vpn}. */
    public Pte pte(final int vpn) {
        return table.get(vpn);
    }

    /** Translations served from revoked entries, the first 1000 of them. */
    public java.util.List<StaleAccess> staleAccessLog() {
        return java.util.List.copyOf(staleLog);
    }

    /** What this space's shootdowns cost so far. */
    public ShootdownStats stats() {
        final long elapsed = Math.max(1, System.nanoTime() - createdAt);
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
