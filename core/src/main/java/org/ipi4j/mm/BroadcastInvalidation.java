package org.ipi4j.mm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.observability.ShootdownEvent;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.time.Timeline;

/**
 * Broadcast invalidation without IPIs, the model of AMD's INVLPGB and TLBSYNC, for address spaces
 * with a global ASID: both halves of its handshake, the translating core's bracket and the
 * initiator's shootdown. Which spaces go global, and the IPI round that makes it safe, are
 * {@link Mmu}'s (its scope protocol: LOCAL, TRANSITION, GLOBAL).
 *
 * <h2>The bracket (on the translating core)</h2>
 * A translation of a space that is global or going global, and the access through it, run inside
 * a bracket: {@link #open} makes the core's epoch odd (a volatile store), {@link #close} makes it
 * even again once the access is done (a release store). Only the core writes its epoch. A
 * handler that translates inside an open bracket (code that took an interrupt between its
 * translation and the end of its access) neither opens nor closes it: the bracket belongs to the
 * level that opened it, so the interrupted access stays covered.
 *
 * <h2>The shootdown (on the initiator)</h2>
 * {@link #shootdown}, after the PTE stores: the generation is bumped; INVLPGB, the initiator
 * clears the entries in every core's TLB itself (volatile stores to the TLBs' valid flags); then
 * TLBSYNC, per core, it waits while that core's epoch is odd and unchanged (a translation in
 * flight may have read the old PTE before the clear and fill after it), then clears again. No
 * interrupt reaches the targets. After it returns, no core translates through a revoked entry:
 * jcstress {@code BroadcastFlushSafety}.
 *
 * <h2>A core that never closes its bracket</h2>
 * TLBSYNC waits as long as a shootdown by IPIs may wait for an acknowledgement: two periods of
 * the cross-call watchdog ({@link SmpCall#watchdog()}; there is no IPI to re-send in between).
 * Then it marks each core still inside its translation as owing a flush, clears its TLB once more,
 * finishes the other cores, and throws the {@link CallTimeoutException} the watchdog would,
 * naming and describing those cores. A core that owes a flush drops every translation it holds
 * when it next opens a bracket, before it translates: the mirror of a timed-out IPI shootdown,
 * whose flush stays queued and runs when the core comes back.
 *
 * <p>Thread-safe: any number of initiators (each with its own {@link Shootdown}); each core
 * writes only its own epoch, and takes back only its own debt.
 */
final class BroadcastInvalidation {
    /** What a simulation charges the initiator for: the broadcast, per page (or once for a space), and its barrier. */
    private static final Timeline.Work INVLPGB = Timeline.Work.named("invlpgb");
    private static final Timeline.Work TLBSYNC = Timeline.Work.named("tlbsync");
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    /** Longs per core: its epoch and its debt share one padded block, apart from every other core's. */
    private static final int PAD = 16;
    /** Offset of the debt in a core's block: 1 if an initiator gave up waiting for this core. */
    private static final int OWED = 1;
    /**
     * Offset of the opener in a core's block: the vector in service (-1: none) when the open
     * bracket was opened. Owner-only, plain. A handler's translation inside it (at a deeper level:
     * a nested handler's vector is of a higher class, so a higher number) neither opens nor
     * closes it: the interrupted code's access is still to come.
     */
    private static final int OPENER = 2;

    private final Mmu mmu;
    private final Tlb[] tlbs;
    private final Timeline timeline;
    private final SmpCall smp;
    /** The cores, for the vector each has in service: the level a bracket is opened and closed at. */
    private final Core[] cores;
    /** How long TLBSYNC waits for all cores together: two watchdog periods, as an IPI shootdown. */
    private final long syncNanos;
    /**
     * Per core, in its own padded block: at the block's start the epoch, odd while the core
     * translates through a global space (written only by the core: volatile on entry, release on
     * exit; read by a broadcasting initiator's TLBSYNC); after it the debt ({@link #OWED}).
     */
    private final long[] slots;

    BroadcastInvalidation(final Mmu mmu, final Tlb[] tlbs, final SmpCall smp) {
        this.mmu = mmu;
        this.tlbs = tlbs;
        this.timeline = mmu.timeline;
        this.smp = smp;
        this.cores = new Core[tlbs.length];
        for (int i = 0; i < cores.length; i++) {
            cores[i] = smp.machine().core(i);
        }
        this.syncNanos = 2 * smp.watchdog().toNanos();
        this.slots = new long[(tlbs.length + 2) * PAD]; // a block of padding before the first and after the last
    }

    private static int epochOf(final int cpu) {
        return (cpu + 1) * PAD;
    }

    // =====================================================================================
    // The bracket, on the translating core
    // =====================================================================================

    /**
     * Opens core {@code cpu}'s bracket before it translates in {@code as}, a space that is global
     * or going global. Partner: the initiator's volatile stores to the TLB's valid flags, then its
     * volatile read of this epoch in {@link #tlbSync}: either it sees us odd and waits, or we see
     * its stores; the generation read orders our walk after its PTE stores.
     *
     * @return the epoch before, for {@link #abort}
     */
    long open(final int cpu, final AddressSpace as) {
        final int e = epochOf(cpu);
        final long epoch = (long) SLOT.get(slots, e); // owner-only writer
        final int level = cores[cpu].inServiceVector();
        if ((epoch & 1) == 0) {
            SLOT.setVolatile(slots, e, epoch + 1);
            SLOT.set(slots, e + OPENER, (long) level);
        } else {
            // Still open: a handler translating inside the access it interrupted (deeper: it
            // leaves the bracket to its opener), or the caller of an earlier translation did not
            // end its access (this level or shallower: the bracket is ours now). Stay open
            // (never invert it: an odd epoch read as closed would let TLBSYNC skip an access) and
            // keep the store-then-load order a fresh open would give.
            if (level <= (long) SLOT.get(slots, e + OPENER)) {
                SLOT.set(slots, e + OPENER, (long) level);
            }
            VarHandle.fullFence();
        }
        if ((long) SLOT.getVolatile(slots, e + OWED) != 0) {
            // An initiator gave up on our last bracket: a walk of ours may have filled an entry
            // it revoked after its last clear. Partner: its volatile store of the debt, then its
            // read of our epoch, which still showed that bracket open.
            SLOT.getAndSet(slots, e + OWED, 0L);
            tlbs[cpu].flushEverything();
        }
        as.generation.get();
        return epoch;
    }

    /** Closes the bracket {@link #open} opened when the translation faulted: no access follows. */
    void abort(final int cpu, final long epoch) {
        if (!nested(cpu)) {
            SLOT.setRelease(slots, epochOf(cpu), (epoch | 1) + 1);
        }
    }

    /** {@return true if core {@code cpu} runs a handler deeper than the code that opened its open bracket} Owner only. */
    private boolean nested(final int cpu) {
        return cores[cpu].inServiceVector() > (long) SLOT.get(slots, epochOf(cpu) + OPENER);
    }

    /**
     * The access after a translation on core {@code cpu} is done: closes the bracket, if one is
     * open, with a release store (partner: tlbSync's volatile read; the access is ordered before
     * it, so an initiator that sees the even epoch sees the access done).
     */
    void close(final int cpu) {
        final int e = epochOf(cpu);
        final long epoch = (long) SLOT.get(slots, e); // owner-only writer
        if ((epoch & 1) != 0 && !nested(cpu)) {
            SLOT.setRelease(slots, e, epoch + 1);
        }
    }

    // =====================================================================================
    // The shootdown, on the initiator
    // =====================================================================================

    /**
     * A shootdown of a global space: INVLPGB, then TLBSYNC. Only the initiator stalls.
     *
     * @throws CallTimeoutException if a core stayed inside a translation for two watchdog periods
     *                              (the other cores are done; that one flushes when it comes back)
     */
    void shootdown(final Shootdown sd) {
        final AddressSpace as = sd.as;
        final ShootdownEvent jfr = ShootdownEvent.startIfEnabled();
        final long start = timeline.nanoTime();
        // Publish: the PTE stores were releases; this RMW orders them before the invalidations
        // and before any translation that reads the generation after them (open's read).
        mmu.publish(sd);
        timeline.spend(INVLPGB, sd.full ? 1 : sd.count); // what a simulation charges: one INVLPGB per page, or per space
        for (final Tlb t : tlbs) {
            invalidate(t, as.asid(), sd);
        }
        timeline.interleave(); // cleared once: a translation in flight may fill the old PTE before TLBSYNC
        timeline.spend(TLBSYNC, 1);
        tlbSync(as.asid(), sd);
        final long done = timeline.nanoTime();
        as.broadcasts.increment();
        mmu.completed(sd, 0, done, done - start, jfr);
    }

    /** TLBSYNC: per core, wait out a translation in flight (odd epoch), then clear again. */
    private void tlbSync(final long asid, final Shootdown sd) {
        final long deadline = timeline.nanoTime() + syncNanos;
        CpuSet stuck = null;
        for (int cpu = 0; cpu < tlbs.length; cpu++) {
            final int e = epochOf(cpu);
            final long epoch = (long) SLOT.getVolatile(slots, e); // after our volatile stores to valid
            if ((epoch & 1) != 0 && !waitOut(e, epoch, deadline)) {
                stuck = (stuck == null ? CpuSet.empty() : stuck).with(cpu);
            }
            invalidate(tlbs[cpu], asid, sd);
        }
        if (stuck != null) {
            throw smp.timeout(stuck, "TLBSYNC: a broadcast shootdown of asid " + asid + " waited "
                + TimeUnit.NANOSECONDS.toMillis(syncNanos) + " ms for cores inside a translation; each drops its "
                + "translations when it next translates a global space; still inside:");
        }
    }

    /**
     * Waits while the epoch at {@code e} is still {@code epoch} (odd: the core is inside that
     * translation). {@return false if {@code deadline} passed first; the core then owes a flush}
     */
    private boolean waitOut(final int e, final long epoch, final long deadline) {
        int spins = 0;
        while ((long) SLOT.getVolatile(slots, e) == epoch) {
            if (++spins < 1000) {
                timeline.spinWait();
            } else if (timeline.nanoTime() - deadline < 0) {
                timeline.yieldCpu(); // the core's thread is off CPU mid-translation
            } else {
                // Dekker with open: we store the debt, then look at the epoch again; the core
                // stores its next epoch, then reads the debt. If we still see this bracket open,
                // the core's next open sees the debt.
                SLOT.setVolatile(slots, e + OWED, 1L);
                // Left just now: the second clear covers it (the debt stays: one needless flush).
                return (long) SLOT.getVolatile(slots, e) != epoch;
            }
        }
        return true;
    }

    private static void invalidate(final Tlb t, final long asid, final Shootdown sd) {
        if (sd.full) {
            t.invalidateRemoteAll(asid);
        } else {
            for (int i = 0; i < sd.count; i++) {
                t.invalidateRemote(asid, sd.vpns[i]);
            }
        }
    }
}
