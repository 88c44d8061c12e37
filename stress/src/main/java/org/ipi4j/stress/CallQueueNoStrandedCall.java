package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.smp.CallQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The cross-call queue's IPI decision, on the real class: a first call is queued and its IPI sent;
 * the target's handler takes the queue while a caller pushes a second call. The caller sends an
 * IPI only if it found the queue empty; otherwise it relies on the pending IPI's handler to take
 * its call. Either the caller sends an IPI, or the handler takes the second call: never neither.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *    RESULT     SAMPLES     FREQ      EXPECT  DESCRIPTION
 *   0, 0, 1           0    0.00%   Forbidden  Stranded: no IPI will come and the handler did not take the call.
 *   0, 1, 0  14,710,342   43.93%  Acceptable  Coalesced: the pending IPI's handler took the second call too.
 *   1, 0, 1  18,772,714   56.07%  Acceptable  The handler had taken the queue; the caller sends an IPI for it.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t CallQueueNoStrandedCall -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Handler: takeAll(). Caller: push(second), IPI if the list was empty. "
    + "Result: (caller sends an IPI, handler took the second call, second call left in the queue).")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "Coalesced: the pending IPI's handler took the second call too.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The handler had taken the queue; the caller sends an IPI for it.")
@Outcome(id = "0, 0, 1", expect = FORBIDDEN, desc = "Stranded: no IPI will come and the handler did not take the call.")
@Outcome(expect = FORBIDDEN, desc = "Anything else: a call lost or taken twice.")
@State
public class CallQueueNoStrandedCall {
    static final class Call extends CallQueue.Node {
        final String name;

        Call(final String name) {
            this.name = name;
        }
    }

    final CallQueue queue = new CallQueue();
    final Call second = new Call("second");
    int ipi;
    int took;

    public CallQueueNoStrandedCall() {
        queue.push(new Call("first")); // found the queue empty: its caller sent the IPI
    }

    @Actor
    public void handler() {
        for (CallQueue.Node n = queue.takeAll(); n != null; n = n.next()) { // the pending IPI's entry
            if (n == second) {
                took = 1;
            }
        }
    }

    @Actor
    public void caller() {
        ipi = queue.push(second) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = ipi;
        r.r2 = took;
        int left = 0;
        for (CallQueue.Node n = queue.takeAll(); n != null; n = n.next()) {
            left += n == second ? 1 : 0;
        }
        r.r3 = left;
    }
}
