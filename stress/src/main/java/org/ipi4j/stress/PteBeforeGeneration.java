package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Release of the PTE update: a remap writes the new PTE (release) and then bumps the address
 * space's generation (a volatile read-modify-write). A page walker that reads the generation and
 * then the PTE must not see the new generation with the old PTE: that is what lets a core that
 * catches up on the generation trust its next walk.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT  SAMPLES     FREQ       EXPECT  DESCRIPTION
 *     0, 1  203,643   60.54%   Acceptable  Old generation, old PTE.
 *     0, 2    1,437    0.43%  Interesting  New PTE seen before the generation bump: allowed, the PTE is written first.
 *     1, 1        0    0.00%    Forbidden  New generation but old PTE: the PTE write was not released by the bump.
 *     1, 2  131,286   39.03%   Acceptable  New generation, new PTE.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t PteBeforeGeneration -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("A page walk that sees the new generation also sees the new PTE. Result: generation, frame.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "Old generation, old PTE.")
@Outcome(id = "1, 2", expect = ACCEPTABLE, desc = "New generation, new PTE.")
@Outcome(id = "0, 2", expect = ACCEPTABLE_INTERESTING, desc = "New PTE seen before the generation bump: allowed, the PTE is written first.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "New generation but old PTE: the PTE write was not released by the bump.")
@State
public class PteBeforeGeneration {
    final AddressSpace as = Rigs.COLD_MMU.newAddressSpace(1);

    public PteBeforeGeneration() {
        as.map(0, 1, Pte.READ);
    }

    @Actor
    public void remapper() {
        as.map(0, 2, Pte.READ); // remap of a present page: PTE, then generation, then (no) IPIs
    }

    @Actor
    public void walker(final JJ_Result r) {
        r.r1 = as.generation();
        r.r2 = as.pte(0).frame();
    }
}
