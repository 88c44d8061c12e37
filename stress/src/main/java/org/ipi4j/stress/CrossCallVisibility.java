package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Cross-core call with wait: what the function wrote on the target core, with plain stores, is
 * visible to the caller when the call returns. Two callers target both cores at once, so their
 * calls coalesce and interleave on the call queues.
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *    RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *   2, 1, 3  4,962,940  100.00%  Acceptable  Both callers see every write their functions made.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t CrossCallVisibility -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("SmpCall.run(cpu, action) returns after the action ran on cpu, and its plain writes happen-before "
    + "the return: the acknowledgement is a volatile decrement of the call's remaining count, which the caller reads.")
@Outcome(id = "2, 1, 3", expect = ACCEPTABLE, desc = "Both callers see every write their functions made.")
@Outcome(expect = FORBIDDEN, desc = "A caller returned without seeing its function's writes.")
@State
public class CrossCallVisibility {
    int x;
    int y;
    int z;

    @Actor
    public void callerA(final III_Result r) {
        Rigs.SMP.run(1, cpu -> {
            x = 1;
            y = 2;
        });
        r.r1 = y;
        r.r2 = x;
    }

    @Actor
    public void callerB(final III_Result r) {
        Rigs.SMP.run(0, cpu -> z = 3);
        r.r3 = z;
    }
}
