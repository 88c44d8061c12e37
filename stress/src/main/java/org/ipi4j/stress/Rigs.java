package org.ipi4j.stress;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.smp.SmpCall;

/**
 * The live machines the end-to-end tests share: starting cores per jcstress state would cost more
 * than the test. Cores park when idle, so they leave the host CPUs to jcstress's actors.
 */
final class Rigs {
    /** Payloads of {@link #VECTOR} are receipts: the handler tells each one it was delivered. */
    interface Receipt {
        void delivered(Interrupt irq);
    }

    static final Vector VECTOR = Vector.of(0x40);

    static final Machine MACHINE = Machine.builder().name("jcstress").cores(2).idlePolicy(IdlePolicy.park())
        .pinning(Pinning.NONE).mailboxCapacity(1 << 16).memoryWords(1024).build().start();
    static final SmpCall SMP = SmpCall.install(MACHINE);
    static final Mmu MMU = Mmu.builder(SMP).pageWords(64).build();

    /** A machine of its own for tests that preempt its cores (PV TLB flush on, as by default). */
    static final Machine PV_MACHINE = Machine.builder().name("jcstress-pv").cores(2).idlePolicy(IdlePolicy.park())
        .pinning(Pinning.NONE).memoryWords(1024).build().start();
    static final Mmu PV_MMU = Mmu.builder(SmpCall.install(PV_MACHINE)).pageWords(64).build();

    /** A machine whose MMU invalidates spaces active on 1 core or more by broadcast (INVLPGB model). */
    static final Machine BC_MACHINE = Machine.builder().name("jcstress-bc").cores(2).idlePolicy(IdlePolicy.park())
        .pinning(Pinning.NONE).memoryWords(1024).build().start();
    static final Mmu BC_MMU = Mmu.builder(SmpCall.install(BC_MACHINE)).pageWords(64).broadcastInvalidation(1).build();

    /** Never started: shootdowns on it have no core to interrupt, so they only publish. */
    static final Machine COLD = Machine.builder().name("jcstress-cold").cores(1).pinning(Pinning.NONE).build();
    static final Mmu COLD_MMU = Mmu.builder(SmpCall.install(COLD)).pageWords(64).build();

    static {
        MACHINE.interrupts().register(VECTOR, irq -> {
            for (final Object p : irq.payloads()) {
                ((Receipt) p).delivered(irq);
            }
        });
    }

    private Rigs() {
    }

    /**
     * On the calling core: reads whether the revoking call has returned, then tries to write
     * page 0 of {@code as}. {@code {returned ? 1 : 0, wrote ? 1 : 0}}: the shootdown tests' outcome.
     */
    static int[] lookThenWrite(final Mmu mmu, final AddressSpace as, final BooleanSupplier returned) {
        final boolean ret = returned.getAsBoolean();
        boolean wrote;
        try {
            mmu.write(as, 0, 7);
            wrote = true;
        } catch (PageFaultException expected) {
            wrote = false;
        }
        return new int[] {ret ? 1 : 0, wrote ? 1 : 0};
    }

    /**
     * Waits, bounded, for a condition a core will make true: an arbiter must not hang the run if
     * the library is broken; it reports what it saw instead.
     */
    static boolean await(final BooleanSupplier done) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int spins = 0;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(10_000);
            }
        }
        return true;
    }
}
