package org.ipi4j.mm;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

import org.ipi4j.smp.CoreAction;

/**
 * One TLB shootdown as its initiator prepares it and its targets run it: the pages and the
 * versions the change produced, the generation, and the measurements the targets report back.
 * Each caller (a core, or an outside thread) reuses one object for all its shootdowns, so a
 * shootdown allocates nothing; it is the target predicate (which cores run the space) and the
 * flush action handed to {@code SmpCall.run}. Not thread-safe: one initiator at a time; the
 * targets only read it, and write the two atomics.
 */
final class Shootdown implements IntPredicate, CoreAction {
    private final Mmu mmu;
    int[] vpns = new int[8];
    long[] versions = new long[8];
    int count;
    AddressSpace as;
    long generation;
    boolean full;
    int initiator;
    int remote;
    long sentAt;
    long firstChangeAt;
    /** The IPI round that moves a space to a global ASID: every core is a target. */
    boolean transition;
    final AtomicLong lastInvalidation = new AtomicLong();
    final AtomicLong handlerNanos = new AtomicLong();
    /** Owner-only guard against a nested use (then a fresh object is used). */
    boolean inUse;

    Shootdown(final Mmu mmu) {
        this.mmu = mmu;
    }

    /** Starts collecting pages of {@code space}. */
    Shootdown begin(final AddressSpace space) {
        inUse = true;
        as = space;
        count = 0;
        return this;
    }

    /** Queues page {@code vpn}, whose change produced {@code version}. */
    void add(final int vpn, final long version) {
        if (count == 0) {
            firstChangeAt = mmu.timeline.nanoTime();
        }
        if (count == vpns.length) {
            vpns = Arrays.copyOf(vpns, count * 2);
            versions = Arrays.copyOf(versions, count * 2);
        }
        vpns[count] = vpn;
        versions[count++] = version;
    }

    void end() {
        as = null;
        inUse = false;
    }

    /** Which cores get the flush: those running the space; lazy ones catch up when they switch back. */
    @Override
    public boolean test(final int cpu) {
        if (!transition) { // in the transition to a global ASID every core is a target
            if (!as.inMask(cpu)) {
                return false;
            }
            if (mmu.runningOn0(cpu) != as) {
                as.lazySkips.increment();
                return false;
            }
        }
        if (cpu != initiator && mmu.pvFlush && mmu.machine().core(cpu).vcpu().flagFlushIfPreempted()) {
            // PV TLB flush: the core is stopped by the host; it flushes when it resumes, before it
            // runs anything (Vcpu), so there is nobody to interrupt and nothing to wait for.
            mmu.pvFlushes.increment();
            return false;
        }
        if (cpu != initiator) {
            remote++;
        }
        return true;
    }


    /** The flush, in interrupt context on each target. */
    @Override
    public void run(final int cpu) {
        mmu.flushOn(cpu, this);
    }
}
