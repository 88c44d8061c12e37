package org.ipi4j.bench;

import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.Pinner;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.MmuGather;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/**
 * A machine whose cores all run one address space of {@link #PAGES} writable pages and idle
 * parked, each with page 0 in its TLB: what the shootdown benchmark and the lab measure on.
 * Not thread-safe: one measuring thread drives it.
 */
public final class SpaceRig implements AutoCloseable {
    /** Pages of the space. */
    public static final int PAGES = 64;

    /** The machine. */
    public final Machine machine;
    /** Its cross-core calls. */
    public final SmpCall smp;
    /** The space every core runs. */
    public final AddressSpace as;
    /** Its MMU. */
    public final Mmu mmu;

    /**
     * A started rig.
     *
     * @param name the machine's name
     * @param cores how many cores
     * @param shape how shootdowns reach their targets
     * @throws Exception if a core could not switch to the space
     */
    public SpaceRig(final String name, final int cores, final Broadcast shape) throws Exception {
        this(name, cores, shape, 0, Paravirt.values());
    }

    /**
     * A started rig with broadcast invalidation and paravirtual features as given.
     *
     * @param name the machine's name
     * @param cores how many cores
     * @param shape how shootdowns reach their targets
     * @param broadcastThreshold {@code Mmu.Builder.broadcastInvalidation}: 0 off
     * @param paravirt the machine's paravirtual features
     * @throws Exception if a core could not switch to the space
     */
    public SpaceRig(final String name, final int cores, final Broadcast shape, final int broadcastThreshold,
                    final Paravirt... paravirt) throws Exception {
        this(name, cores, shape, null, broadcastThreshold, paravirt);
    }

    /**
     * A started rig whose cores {@code pinner} places (null: the class path's pinner, best effort).
     *
     * @param name the machine's name
     * @param cores how many cores
     * @param shape how shootdowns reach their targets
     * @param pinner where the cores go, or null
     * @param broadcastThreshold {@code Mmu.Builder.broadcastInvalidation}: 0 off
     * @param paravirt the machine's paravirtual features
     * @throws Exception if a core could not switch to the space
     */
    public SpaceRig(final String name, final int cores, final Broadcast shape, final Pinner pinner,
                    final int broadcastThreshold, final Paravirt... paravirt) throws Exception {
        final Machine.Builder b = Machine.builder().name(name).cores(cores).idlePolicy(IdlePolicy.park())
            .paravirt(paravirt).pinning(Pinning.BEST_EFFORT).memoryWords(PAGES * 64);
        machine = (pinner == null ? b : b.pinner(pinner)).build().start();
        smp = SmpCall.install(machine);
        mmu = Mmu.builder(smp).broadcast(shape).detectStale(true) // the lab reports violations
            .broadcastInvalidation(broadcastThreshold).build();
        as = mmu.newAddressSpace(PAGES);
        for (int vpn = 0; vpn < PAGES; vpn++) {
            as.map(vpn, vpn, Pte.READ | Pte.WRITE);
        }
        for (int c = 0; c < cores; c++) {
            machine.core(c).submit(() -> {
                mmu.switchTo(as);
                mmu.read(as, 0);
            }).get();
        }
    }

    /** Every page read-only, one shootdown each. */
    public void revokeAllPerPage() {
        for (int vpn = 0; vpn < PAGES; vpn++) {
            as.protect(vpn, 1, Pte.READ);
        }
    }

    /** Every page read-only in one gather: one shootdown (a full flush, above the ceiling). */
    public void revokeAllBatched() {
        try (MmuGather g = as.gather()) {
            g.protect(0, PAGES, Pte.READ);
        }
    }

    /** Every page writable again: adding rights needs no shootdown. */
    public void restore() {
        as.protect(0, PAGES, Pte.READ | Pte.WRITE);
    }

    @Override
    public void close() {
        machine.close();
    }
}
