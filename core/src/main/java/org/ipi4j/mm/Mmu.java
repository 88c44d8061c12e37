package org.ipi4j.mm;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ObjIntConsumer;

import org.ipi4j.CallerLocal;
import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Memory;
import org.ipi4j.observability.ShootdownEvent;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.time.Timeline;

/**
 * The software MMU of a machine: per-core {@link Tlb}s, the address space each core runs, page
 * walks, and the TLB shootdown protocol that keeps the TLBs coherent.
 *
 * <h2>Translation</h2>
 * On a core: TLB lookup; on a miss, a page walk with acquire reads of the PTE, then a fill. A
 * missing page or right raises a precise {@link PageFaultException} (vector 14) at the faulting
 * instruction. A cached entry that lacks a right is re-walked before faulting (the right may
 * have been added since).
 *
 * <h2>Shootdown</h2>
 * (1) the PTEs are updated with release stores; (2) the space's generation is bumped (a full
 * fence: a core that sees the new generation sees the new PTEs); (3) a flush request carrying the
 * pages goes to every core in the space's cpumask that is running it, skipping lazy cores (they
 * catch up with a full flush when they switch back); (4) the initiator, if it runs the space,
 * flushes its own TLB while the others work; (5) each target invalidates (whole space above the
 * ceiling, or when behind by more than this one flush) and acknowledges; (6) the initiator waits
 * for every acknowledgement, with {@link SmpCall}'s watchdog. Because interrupts are taken only
 * at instruction boundaries, no load or store can straddle the flush: when the shootdown
 * returns, no core can translate through the revoked entry.
 *
 * <h2>Broadcast invalidation</h2>
 * With {@link Builder#broadcastInvalidation}, a space active on enough cores goes global (LOCAL,
 * then TRANSITION, whose shootdown is an IPI round to every core, then GLOBAL); its shootdowns
 * then clear every core's TLB from the initiator and wait with TLBSYNC, without interrupts (the
 * package's {@code BroadcastInvalidation}). TLBSYNC waits at most two watchdog periods for a core
 * inside a translation, then throws {@link org.ipi4j.smp.CallTimeoutException}, as a shootdown
 * whose target does not answer does.
 *
 * <p>Thread-safe. {@link #switchTo}, {@link #read} and {@link #write} act on the calling core.
 */
public final class Mmu {
    private final Machine machine;
    /** The machine's clock, spin-waits and flush costs (the host's, or a simulation's). */
    final Timeline timeline;
    /**
     * What a target's flush costs: a simulation charges its virtual time ({@link Timeline#spend}),
     * the host nothing. Chosen once, here, the only place in this package that asks whether the
     * machine is simulated; on the host the hook is an empty lambda the JIT inlines.
     */
    /** What a simulation charges for: one INVLPG, and a whole space flushed with its refills. */
    private static final Timeline.Work FLUSH_PAGE = Timeline.Work.named("flush-page");
    private static final Timeline.Work FLUSH_ALL = Timeline.Work.named("flush-all");

    private final ObjIntConsumer<Timeline.Work> flushCost;
    private final SmpCall smp;
    private final Memory memory;
    private final int pageWords;
    private final int pageShift;
    private final int fullFlushCeiling;
    private final Broadcast broadcast;
    private final int batchPages;
    private final long batchWindowNanos;
    private final boolean detectStale;
    private final Tlb[] tlbs;
    /**
     * Per core, at {@code (cpu + 1) * RUNNING_STRIDE}: the space it runs, or null. Written only by
     * the core (a volatile store on switch); read by the core on every translation and by
     * initiators choosing targets. Padded, because a core's store would otherwise take the line of
     * its neighbour's slot: in {@code SlotPaddingBench} (two threads each storing its own slot as
     * switchOn does, 2-CPU host, {@code -f 2 -wi 3 -i 5}) padded slots gave 5.6x, 6.5x and 7.1x the
     * throughput of adjacent ones for this store alone, and 3.9x to 7.2x for the whole switch
     * (median of the iterations, padded over adjacent, three runs).
     */
    private final AtomicReferenceArray<AddressSpace> running;
    /** References per slot of {@link #running}: 128 bytes with compressed references, as SendGate's 16 longs. */
    private static final int RUNNING_STRIDE = 32;
    /** Never reused: a 64-bit count does not wrap in the life of a machine (2^63 spaces). */
    private final AtomicLong nextAsid = new AtomicLong();
    private final AtomicLong shootdownsTotal = new AtomicLong();
    /** PV TLB flush on ({@link Paravirt#TLB_FLUSH}): preempted targets are flagged, not interrupted. */
    final boolean pvFlush;
    /** Targets flagged for a flush on resume instead of interrupted. */
    final LongAdder pvFlushes = new LongAdder();
    /** Cores a space must be active on to go global, by default, as in Linux 6.15 ({@link Builder#broadcastInvalidation()}). */
    public static final int DEFAULT_BROADCAST_THRESHOLD = 4;
    /** Cores a space must be active on to go global (broadcast invalidation); 0: never. */
    private final int broadcastThreshold;
    /** Shootdowns of global spaces, and the bracket translations of them run in. */
    private final BroadcastInvalidation global;
    /** Every core of the machine: shootdown targets are chosen from it by {@link Shootdown#test}. */
    private final CpuSet allCores;
    /** The reusable shootdown of each initiator (each core, each outside thread). */
    private final CallerLocal<Shootdown> initiators;

    private Mmu(final Builder b) {
        this.smp = b.smp.layer(); // no deadline: a cancelled flush would leave a stale translation behind
        this.machine = b.smp.machine();
        this.timeline = machine.timeline();
        this.flushCost = timeline.simulated() ? timeline::spend : (work, units) -> { };
        this.memory = machine.memory();
        this.pageWords = b.pageWords;
        this.pageShift = Integer.numberOfTrailingZeros(b.pageWords);
        this.fullFlushCeiling = b.fullFlushCeiling;
        this.broadcast = b.broadcast == null ? smp.broadcast() : b.broadcast;
        this.batchPages = b.batchPages;
        this.batchWindowNanos = b.batchWindow.toNanos();
        this.detectStale = b.detectStale;
        this.tlbs = new Tlb[machine.coreCount()];
        for (int i = 0; i < tlbs.length; i++) {
            tlbs[i] = new Tlb(i, b.tlbEntries);
        }
        this.running = new AtomicReferenceArray<>((machine.coreCount() + 2) * RUNNING_STRIDE); // a block before and after
        this.allCores = CpuSet.firstN(machine.coreCount());
        this.initiators = new CallerLocal<>(machine, () -> new Shootdown(this));
        this.pvFlush = machine.paravirt(Paravirt.TLB_FLUSH);
        this.broadcastThreshold = b.broadcastThreshold == Builder.BY_COST
            ? InvalidationThreshold.fromCosts(machine.costModel(), machine.coreCount(), broadcast) : b.broadcastThreshold;
        this.global = new BroadcastInvalidation(this, tlbs, smp);
        // A core resuming with a flush pending drops every translation before it runs anything.
        machine.onPvFlush(cpu -> tlbs[cpu].flushEverything());
    }

    /** {@return the machine the MMU's cores belong to} */
    Machine machine() {
        return machine;
    }

    /**
     * {@return shootdown targets that were preempted and got a PV flush on resume instead of an IPI}
     * (with {@link Paravirt#TLB_FLUSH}).
     */
    public long pvFlushes() {
        return pvFlushes.sum();
    }

    /**
     * {@return how many cores a space must be active on to go global (broadcast invalidation): the
     * builder's, or the one {@link Builder#broadcastInvalidationByCost()} chose; 0 when off}
     */
    public int broadcastThreshold() {
        return broadcastThreshold;
    }

    /**
     * {@return a builder for an MMU that shoots down through {@code smp}}
     *
     * @param smp the cross-core calls the shootdowns are sent with
     */
    public static Builder builder(final SmpCall smp) {
        return new Builder(smp);
    }

    /**
     * A new, empty address space of {@code pages} virtual pages, with a fresh address-space id.
     * Spaces are reclaimed by the garbage collector; their stale TLB entries are simply evicted.
     *
     * @param pages the number of virtual pages
     * @return the space, with nothing mapped
     */
    public AddressSpace newAddressSpace(final int pages) {
        if (pages < 1) {
            throw new IllegalArgumentException("pages: an address space needs at least one page, not " + pages);
        }
        return new AddressSpace(this, nextAsid.getAndIncrement(), pages, machine.coreCount());
    }

    /** Tests only: the id the next space gets (to show that ids far apart never meet in a TLB). */
    void nextAsid(final long asid) {
        nextAsid.set(asid);
    }

    /** {@return words per page} */
    public int pageWords() {
        return pageWords;
    }

    /** {@return pages above which a target flushes its whole TLB instead of page by page} */
    public int fullFlushCeiling() {
        return fullFlushCeiling;
    }

    int batchPages() {
        return batchPages;
    }

    long batchWindowNanos() {
        return batchWindowNanos;
    }

    /**
     * {@return the TLB of core {@code cpu}}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public Tlb tlb(final int cpu) {
        return tlbs[machine.core(cpu).id()];
    }

    /**
     * {@return the address space core {@code cpu} runs now, or null}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public AddressSpace runningOn(final int cpu) {
        return running(machine.core(cpu).id());
    }

    /** {@return shootdowns run on this MMU, all spaces together} */
    public long shootdowns() {
        return shootdownsTotal.get();
    }

    /**
     * Refuses a change of mappings before it touches the page table: its shootdown would have to
     * wait for other cores where that is a deadlock hazard (inside a handler, interrupts off), or
     * the machine is closed. A change refused here changed nothing.
     */
    void checkMayChange() {
        smp.checkMayWait();
        machine.interrupts().checkOpen();
    }

    void checkFrame(final long frame) {
        if (frame < 0 || (frame + 1) * pageWords > memory.size()) {
            throw new IllegalArgumentException("frame " + frame + " is outside physical memory of "
                + memory.size() / pageWords + " frames");
        }
    }

    // =====================================================================================
    // On the calling core
    // =====================================================================================

    private Core self() {
        final Core c = machine.currentCore();
        if (c == null) {
            throw new IllegalStateException("must run on a core of " + machine.name() + ", not on "
                + Thread.currentThread().getName());
        }
        return c;
    }

    /**
     * Makes the calling core run {@code as} (null: run none, leaving the previous space lazy).
     * If the core fell behind the space's generation while it was away, its TLB catches up with
     * one full flush of the space.
     *
     * @param as the address space
     */
    public void switchTo(final AddressSpace as) {
        switchOn(self().id(), as);
    }

    private void switchOn(final int cpu, final AddressSpace as) {
        if (as == null) {
            running.set(runningSlot(cpu), null);
            return;
        }
        as.addToMask(cpu);
        running.set(runningSlot(cpu), as);
        // Dekker with shootdown(): we publish "running", then read the generation; the
        // initiator bumps the generation, then reads "running". One of us sees the other.
        final long gen = as.generation.get();
        final Tlb t = tlbs[cpu];
        if (as.syncedGeneration(cpu) < gen) {
            t.flushAll(as.asid());
            as.fullFlushes.increment();
        }
        as.syncedGeneration(cpu, gen);
    }

    /**
     * Reads the word at virtual address {@code vaddr} of {@code as} on the calling core.
     *
     * @param as the address space
     * @param vaddr the virtual address
     * @return the word
     */
    public long read(final AddressSpace as, final long vaddr) {
        Objects.requireNonNull(as, "as");
        final Core c = self();
        final long p = translate(c.id(), as, c.epc(), vaddr, false);
        try {
            return memory.load(p);
        } finally {
            endAccess(c.id()); // the load is inside the bracket, not only the translation
        }
    }

    /**
     * Writes the word at virtual address {@code vaddr} of {@code as} on the calling core.
     *
     * @param as the address space
     * @param vaddr the virtual address
     * @param value the value
     */
    public void write(final AddressSpace as, final long vaddr, final long value) {
        Objects.requireNonNull(as, "as");
        final Core c = self();
        final long p = translate(c.id(), as, c.epc(), vaddr, true);
        try {
            memory.store(p, value);
        } finally {
            endAccess(c.id()); // the store is inside the bracket: TLBSYNC waits for it too
        }
    }

    /**
     * {@return translation for programs run with {@code core.execute(program, mode, translation)}}
     *
     * @param as the address space
     */
    public AddressTranslation translation(final AddressSpace as) {
        Objects.requireNonNull(as, "as");
        return new AddressTranslation() {
            @Override
            public long translate(final int cpu, final long epc, final long address, final boolean write) {
                return Mmu.this.translate(cpu, as, epc, address, write);
            }

            @Override
            public void endAccess(final int cpu) {
                Mmu.this.endAccess(cpu);
            }
        };
    }

    /**
     * Translates on core {@code cpu}. For a space that is global or going global, the translation
     * opens a bracket (an odd epoch) that the caller closes with {@link #endAccess} once the access
     * itself is done; on a fault the bracket is closed here.
     */
    long translate(final int cpu, final AddressSpace as, final long epc, final long vaddr, final boolean write) {
        if (as.scope == AddressSpace.LOCAL) {
            // Unbracketed: only IPIs invalidate this TLB's entries of the space, and they are
            // taken at an instruction boundary, after this access. A space that leaves LOCAL
            // while we are here is shot down with IPIs until every core took one (Mmu.run).
            timeline.interleave(); // read scope == LOCAL: a transition may begin before this unbracketed walk and fill
            return translate(cpu, as, epc, vaddr, write, false);
        }
        // Entries may be cleared by other threads (broadcast invalidation): translate and access
        // inside the bracket.
        final long epoch = global.open(cpu, as);
        boolean translated = false;
        try {
            final long physical = translate(cpu, as, epc, vaddr, write, true);
            translated = true;
            return physical;
        } finally {
            if (!translated) {
                global.abort(cpu, epoch); // a fault: no access follows
            }
        }
    }

    /**
     * The access after {@link #translate} on core {@code cpu} is done: closes the bracket it
     * opened, if any ({@link BroadcastInvalidation#close}).
     */
    void endAccess(final int cpu) {
        global.close(cpu);
    }

    private long translate(final int cpu, final AddressSpace as, final long epc, final long vaddr, final boolean write,
                           final boolean global) {
        if (running(cpu) != as) {
            switchOn(cpu, as);
        }
        final long vpnLong = vaddr >>> pageShift;
        if (vaddr < 0 || vpnLong >= as.pageTable().pages()) {
            throw new PageFaultException(cpu, epc, vaddr, write, "outside the address space");
        }
        final int vpn = (int) vpnLong;
        final long offset = vaddr & (pageWords - 1);
        final Tlb t = tlbs[cpu];
        final int slot = global ? t.lookupSynchronized(as.asid(), vpn) : t.lookup(as.asid(), vpn);
        if (slot >= 0) {
            final long raw = t.pte(slot);
            if (Pte.allows(raw, write)) {
                if (detectStale) {
                    checkStale(cpu, as, vpn, raw, t.version(slot), write);
                }
                return (Pte.frame(raw) << pageShift) + offset;
            }
            // The cached entry lacks the right; it may have been added since: walk again.
        }
        final long version = as.pageTable().version(vpn);
        final long raw = as.pageTable().raw(vpn);
        timeline.interleave(); // the walk read the PTE: a shootdown may change it and return before we fill
        if (!Pte.allows(raw, write)) {
            throw new PageFaultException(cpu, epc, vaddr, write, Pte.present(raw) ? "no " + (write ? "write" : "read")
                + " right" : "page not present");
        }
        t.fill(as.asid(), vpn, raw, version);
        return (Pte.frame(raw) << pageShift) + offset;
    }

    private void checkStale(final int cpu, final AddressSpace as, final int vpn, final long cached, final long version,
                            final boolean write) {
        final long now = as.pageTable().raw(vpn);
        if (Pte.allows(now, write) && Pte.frame(now) == Pte.frame(cached)) {
            return;
        }
        // Served from a revoked entry. Inside a shootdown's window that is the window; after
        // the shootdown covering a newer version returned, it is a broken guarantee.
        final boolean violation = as.pageTable().completed(vpn) > version;
        as.staleAccesses.increment();
        if (violation) {
            as.violations.increment();
        }
        if (as.staleLog.size() < 1000) {
            as.staleLog.add(new StaleAccess(cpu, vpn, timeline.nanoTime(), violation));
        }
    }

    // =====================================================================================
    // Shootdown
    // =====================================================================================

    /** The calling core's (or thread's) reusable shootdown, ready to collect pages of {@code as}. */
    Shootdown beginShootdown(final AddressSpace as) {
        Shootdown sd = initiators.get();
        if (sd.inUse) {
            sd = new Shootdown(this); // nested (a function run locally that changes mappings)
        }
        return sd.begin(as);
    }

    /** The core running {@code cpu}'s current space (no range check: the caller iterates the machine). */
    AddressSpace runningOn0(final int cpu) {
        return running(cpu);
    }

    private AddressSpace running(final int cpu) {
        return running.get(runningSlot(cpu));
    }

    private static int runningSlot(final int cpu) {
        return (cpu + 1) * RUNNING_STRIDE;
    }

    /** Runs the shootdown {@code sd} collected, if it holds any page, and releases it. */
    void shootdown(final Shootdown sd) {
        boolean finished = false;
        try {
            if (sd.count > 0) {
                run(sd);
            }
            finished = true;
        } finally {
            if (finished) {
                sd.end();
            } else {
                initiators.abandon(sd); // a target may still run it later (a timed-out call stays queued)
            }
        }
    }

    private void run(final Shootdown sd) {
        final AddressSpace as = sd.as;
        final Core c = machine.currentCore();
        sd.initiator = c != null ? c.id() : -1;
        sd.transition = false;
        if (broadcastThreshold > 0) {
            final int scope = as.scope;
            if (scope == AddressSpace.GLOBAL) {
                global.shootdown(sd);
                return;
            }
            // The transition to a global ASID: TRANSITION is published first (translations from
            // then on are bracketed), and this shootdown is an IPI round to every core. A core
            // inside an unbracketed translation finishes it, access included, before it takes the
            // IPI; so once the round is acknowledged no unbracketed translation is left, and only
            // then is GLOBAL published (below). Until then every initiator, this one's rivals
            // included, shoots down with IPIs: broadcast invalidation cannot see an unbracketed
            // translation in flight.
            if (scope == AddressSpace.LOCAL && as.activeCores() >= broadcastThreshold && as.beginTransition()) {
                timeline.interleave(); // TRANSITION is published; the round that makes GLOBAL safe is not done
                sd.transition = true;
            }
        }
        // (2) publish: the PTE stores were releases; this RMW orders them before every read
        // of "running" below and before any target's read of the generation.
        publish(sd);
        sd.remote = 0;
        sd.lastInvalidation.set(0);
        sd.handlerNanos.set(0);
        final ShootdownEvent jfr = ShootdownEvent.startIfEnabled(); // null unless recorded
        sd.sentAt = timeline.nanoTime(); // published to the targets by the call
        // (3)-(6): targets are the cores running the space (sd.test); IPIs, the local share
        // while the others work, and the wait for every ack (watchdog).
        try {
            smp.run(allCores, sd, sd, broadcast);
        } catch (RuntimeException | Error e) {
            if (sd.transition) {
                as.scope = AddressSpace.LOCAL; // the round did not reach every core: not global (IPIs stay safe)
            }
            throw afterTheChange(e);
        }
        if (sd.transition) {
            as.scope = AddressSpace.GLOBAL; // every core took the round after TRANSITION: safe to broadcast
        }
        final long done = timeline.nanoTime();
        as.remoteTargets.add(sd.remote);
        final long last = Math.max(sd.lastInvalidation.get(), sd.sentAt);
        completed(sd, sd.remote, last, sd.handlerNanos.get() + (done - sd.sentAt), jfr);
    }

    /**
     * A shootdown's failure, after its change was made: the cross-core layer reports a call the
     * shutdown abandoned as {@link MachineClosedException}, which for a mapping change means
     * "refused, nothing changed". Here the change is in effect, so it is reported as a shootdown
     * that some cores did not confirm: the watchdog's {@link CallTimeoutException} if that is what
     * the shutdown interrupted, else one naming the cores that never took the flush.
     */
    private RuntimeException afterTheChange(final Throwable e) {
        if (e instanceof MachineClosedException closed) {
            if (closed.getCause() instanceof CallTimeoutException t) {
                return t;
            }
            CpuSet unconfirmed = CpuSet.firstN(machine.coreCount());
            final CpuSet ran = closed.delivered();
            for (int cpu = ran.next(0); cpu >= 0; cpu = ran.next(cpu + 1)) {
                unconfirmed = unconfirmed.without(cpu);
            }
            final CallTimeoutException t = smp.timeout(unconfirmed, "TLB shootdown abandoned by the machine's shutdown "
                + "after the change was made; cores that did not confirm the flush:");
            t.initCause(closed);
            return t;
        }
        if (e instanceof RuntimeException r) {
            return r;
        }
        throw (Error) e;
    }

    /** Bumps the generation (a volatile RMW after the PTE stores, which were releases) and decides on a full flush. */
    void publish(final Shootdown sd) {
        timeline.interleave(); // the PTEs are stored, the generation not yet bumped: a core may walk the new PTE under the old one
        sd.generation = sd.as.generation.incrementAndGet();
        sd.full = sd.count > fullFlushCeiling;
    }

    /**
     * A shootdown is over, by IPIs or by broadcast: its PTE versions are complete (for the stale
     * detector), and it is counted, with its window (first change to {@code lastInvalidation}) and
     * the core-time it stalled.
     */
    void completed(final Shootdown sd, final int remote, final long lastInvalidation, final long stalledNanos,
                           final ShootdownEvent jfr) {
        final AddressSpace as = sd.as;
        for (int i = 0; i < sd.count; i++) {
            as.pageTable().complete(sd.vpns[i], sd.versions[i]);
        }
        as.shootdowns.increment();
        shootdownsTotal.incrementAndGet();
        final long window = Math.max(0, lastInvalidation - sd.firstChangeAt);
        as.window.recordValue(window);
        as.stalledCoreNanos.add(stalledNanos);
        if (jfr != null) {
            jfr.finish(as.asid(), sd.count, remote, sd.full, window);
        }
    }

    /** (5) on each target, in interrupt context. */
    void flushOn(final int cpu, final Shootdown req) {
        final long entry = timeline.nanoTime();
        final AddressSpace as = req.as;
        final Tlb t = tlbs[cpu];
        final long asid = as.asid();
        final long local = as.syncedGeneration(cpu);
        final long mmGen = as.generation.get();
        if (local < mmGen) {
            // Page by page only if this flush is exactly the one we are missing; otherwise we
            // are further behind (or the range is large): one full flush catches up.
            if (!req.full && req.generation == local + 1 && req.generation == mmGen) {
                flushCost.accept(FLUSH_PAGE, req.count); // INVLPG's cost
                for (int i = 0; i < req.count; i++) {
                    t.flushPage(asid, req.vpns[i]);
                }
            } else {
                flushCost.accept(FLUSH_ALL, 1);
                t.flushAll(asid);
                as.fullFlushes.increment();
            }
            as.syncedGeneration(cpu, mmGen);
        }
        final long end = timeline.nanoTime();
        if (cpu != req.initiator) {
            as.delivery.recordValue(Math.max(0, entry - req.sentAt));
            final long irqOn = machine.core(cpu).lastInterruptsEnabledAt();
            as.irqOffDelay.recordValue(irqOn > req.sentAt ? irqOn - req.sentAt : 0);
        }
        as.handler.recordValue(end - entry);
        req.handlerNanos.addAndGet(end - entry);
        req.lastInvalidation.accumulateAndGet(end, Math::max);
    }

    /** Configures an {@link Mmu}. */
    public static final class Builder {
        private final SmpCall smp;
        private int pageWords = 64;
        private int tlbEntries = 64;
        private int fullFlushCeiling = 33;
        private Broadcast broadcast;
        private int batchPages = 512;
        private Duration batchWindow = Duration.ofMillis(1);
        private boolean detectStale;
        private int broadcastThreshold;
        /** The threshold's mark for {@link #broadcastInvalidationByCost()}: chosen when the MMU is built. */
        private static final int BY_COST = -1;

        private Builder(final SmpCall smp) {
            this.smp = Objects.requireNonNull(smp, "smp");
        }

        /**
         * Words per page, a power of two. Default 64.
         *
         * @param words the size in 64-bit words
         * @return this builder
         */
        public Builder pageWords(final int words) {
            if (words < 1 || Integer.bitCount(words) != 1) {
                throw new IllegalArgumentException("page size must be a power of two, not " + words);
            }
            this.pageWords = words;
            return this;
        }

        /**
         * Entries per TLB, a power of two. Default 64.
         *
         * @param entries entries per TLB
         * @return this builder
         */
        public Builder tlbEntries(final int entries) {
            if (entries < 1 || Integer.bitCount(entries) != 1) {
                throw new IllegalArgumentException("TLB entries must be a power of two, not " + entries);
            }
            this.tlbEntries = entries;
            return this;
        }

        /**
         * Pages above which targets flush the whole space. Default 33, as in Linux.
         *
         * @param pages the page count
         * @return this builder
         */
        public Builder fullFlushCeiling(final int pages) {
            if (pages < 0) {
                throw new IllegalArgumentException("fullFlushCeiling must not be negative, not " + pages);
            }
            this.fullFlushCeiling = pages;
            return this;
        }

        /**
         * How flush requests reach the targets. Default: the SmpCall's default.
         *
         * @param broadcast the default shape of multi-core calls
         * @return this builder
         */
        public Builder broadcast(final Broadcast broadcast) {
            this.broadcast = Objects.requireNonNull(broadcast, "broadcast");
            return this;
        }

        /**
         * A gather flushes when it holds this many pages. Default 512.
         *
         * @param pages the page count
         * @return this builder
         */
        public Builder batchPages(final int pages) {
            if (pages < 1) {
                throw new IllegalArgumentException("batchPages: a batch must hold at least one page, not " + pages);
            }
            this.batchPages = pages;
            return this;
        }

        /**
         * A gather flushes at the first change after this much time. Default 1 ms.
         *
         * @param window how long a gather waits
         * @return this builder
         */
        public Builder batchWindow(final Duration window) {
            Objects.requireNonNull(window, "window");
            if (window.isNegative()) {
                throw new IllegalArgumentException("batchWindow must not be negative, not " + window);
            }
            this.batchWindow = window;
            return this;
        }

        /**
         * A debug option: check every TLB hit against the page table and count the hits served
         * from an entry that was revoked ({@link ShootdownStats#staleAccesses()}), and those that
         * break the shootdown guarantee ({@link ShootdownStats#violations()}, always 0 unless the
         * library is broken). Default off: it costs a page-table load on every TLB hit, which is
         * what a TLB exists to save; with it off a hit reads only the TLB.
         *
         * @param on true to turn it on
         * @return this builder
         */
        public Builder detectStale(final boolean on) {
            this.detectStale = on;
            return this;
        }

        /**
         * {@link #broadcastInvalidation(int)} with the threshold Linux uses: spaces active on 4 or
         * more cores.
         *
         * @return this builder
         */
        public Builder broadcastInvalidation() {
            return broadcastInvalidation(DEFAULT_BROADCAST_THRESHOLD);
        }

        /**
         * Broadcast invalidation without IPIs, the model of AMD's INVLPGB and TLBSYNC: an address
         * space active on at least {@code cores} cores gets a global ASID, and its shootdowns then
         * clear every core's TLB entries directly and wait with a TLBSYNC barrier; no interrupt
         * reaches the targets. The first shootdown after a space qualifies is the transition: an
         * IPI round to every core. Off by default (0); 4 is the threshold Linux uses.
         *
         * @param cores how many cores a space must be active on, at least 1; 0 turns it off
         * @return this builder
         */
        public Builder broadcastInvalidation(final int cores) {
            if (cores < 0) {
                throw new IllegalArgumentException("cores must be 0 (off) or more, not " + cores);
            }
            this.broadcastThreshold = cores;
            return this;
        }

        /**
         * Broadcast invalidation with the threshold chosen from the machine's
         * {@link Machine#costModel() cost model}: the fewest active cores at which one broadcast
         * invalidation of a page (an INVLPGB and a TLBSYNC on the initiator) is estimated faster
         * than a shootdown by IPIs with this MMU's broadcast shape; off (0) if IPIs are estimated
         * faster on every count the machine has. {@link Mmu#broadcastThreshold()} says which.
         *
         * @return this builder
         */
        public Builder broadcastInvalidationByCost() {
            this.broadcastThreshold = BY_COST;
            return this;
        }

        /** {@return the MMU; one per SmpCall} */
        public Mmu build() {
            return new Mmu(this);
        }
    }
}
