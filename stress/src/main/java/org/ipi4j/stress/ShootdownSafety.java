package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.Core;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Shootdown safety: core 1 switches to a fresh address space, caches a writable translation, and
 * then (after a boundary where it may take the flush IPI) checks whether the revoking call has
 * returned and tries to write. Meanwhile another thread revokes the write right. Races the lazy
 * switch, the flush IPI and the generation check all at once.
 */
@JCStressTest
@Description("After AddressSpace.protect() returns, no core may translate a write through the revoked entry. "
    + "Result: revoking call had returned when the core looked, the core's write succeeded.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "A write went through a revoked translation after the shootdown returned.")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Shootdown returned, the write faulted.")
@Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "The right was already revoked (PTE or flush seen) before the call returned.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The write happened before the revocation reached the core.")
@State
public class ShootdownSafety {
    final AddressSpace as = Rigs.MMU.newAddressSpace(1);
    volatile boolean returned;

    public ShootdownSafety() {
        as.map(0, 1, Pte.READ | Pte.WRITE); // page was absent: no shootdown needed
    }

    @Actor
    public void revoker() {
        as.protect(0, 1, Pte.READ);
        returned = true;
    }

    @Actor
    public void user(final II_Result r) {
        final int[] out = Rigs.MACHINE.core(1).submit(() -> {
            Rigs.MMU.switchTo(as);
            Rigs.MMU.read(as, 0);        // a translation is now cached
            Core.current().checkpoint(); // the flush IPI may be taken here
            return Rigs.lookThenWrite(Rigs.MMU, as, () -> returned);
        }).join();
        r.r1 = out[0];
        r.r2 = out[1];
    }
}
