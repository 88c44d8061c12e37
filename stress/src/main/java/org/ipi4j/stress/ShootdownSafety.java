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
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT  SAMPLES     FREQ       EXPECT  DESCRIPTION
 *     0, 0    1,065    0.35%  Interesting  The right was already revoked (PTE or flush seen) before the call returned.
 *     0, 1   25,188    8.36%   Acceptable  The write happened before the revocation reached the core.
 *     1, 0  275,186   91.29%   Acceptable  Shootdown returned, the write faulted.
 *     1, 1        0    0.00%    Forbidden  A write went through a revoked translation after the shootdown returned.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t ShootdownSafety -iters 2 -time 200 -sc false
 * </pre>
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
