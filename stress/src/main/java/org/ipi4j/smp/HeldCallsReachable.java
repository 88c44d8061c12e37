package org.ipi4j.smp;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.time.Timeline;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Shutdown against a core that took a list of two calls and is about to get stuck in the first:
 * the core publishes the rest of its list ({@code CallQueue.hold}) and then claims the first call
 * ({@code CallDescriptor.start}) and never comes back; shutdown walks the published cursor with
 * {@code CallDescriptor.claimHeld}, the real code of {@code SmpCall}'s shutdown hook. Every call
 * must have exactly one owner: run by the core or answered by shutdown; the second call, which
 * the stuck core never reaches, must be answered. Placed in {@code org.ipi4j.smp} to drive the
 * package's own classes. Moving the core's {@code hold(next)} after its {@code start} strands the
 * second call when shutdown's failed claim re-reads the old cursor (the "x, y, 0" outcome).
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *    RESULT     SAMPLES     FREQ      EXPECT  DESCRIPTION
 *     .*, 0           0    0.00%   Forbidden  A call with no owner or two: stranded behind the stuck core, or run and answered.
 *   0, 0, .           0    0.00%   Forbidden  A call with no owner or two: stranded behind the stuck core, or run and answered.
 *   0, 1, 1   1,186,932    3.36%  Acceptable  Shutdown claimed call 0 first (the core skips it) and call 1.
 *   1, 0, 1  34,118,844   96.64%  Acceptable  The core started call 0; shutdown answered call 1.
 *   1, 1, .           0    0.00%   Forbidden  A call with no owner or two: stranded behind the stuck core, or run and answered.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t HeldCallsReachable -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Calls a stuck core took but has not started are reachable by shutdown. "
    + "Result: the core ran call 0, shutdown answered call 0, shutdown answered call 1.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The core started call 0; shutdown answered call 1.")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "Shutdown claimed call 0 first (the core skips it) and call 1.")
@Outcome(id = {"0, 0, .", "1, 1, .", ".*, 0"}, expect = FORBIDDEN,
    desc = "A call with no owner or two: stranded behind the stuck core, or run and answered.")
@State
public class HeldCallsReachable {
    final CallQueue queue = new CallQueue();
    final Call call = new Call(2, Timeline.real(), null);
    final CallDescriptor first = call.descriptors[0];
    final CallDescriptor second = call.descriptors[1];

    public HeldCallsReachable() {
        call.count = 2;
        call.remoteCount = 2;
        call.arm();
        first.next = second; // the list the core took, oldest first
        second.next = null;
        queue.hold(first); // as left by the previous iteration of the core's loop
    }

    @Actor
    public void core(final III_Result r) {
        final CallQueue.Node next = first.next();
        queue.hold(next); // SmpCall.onCallFunction: publish the rest, then claim
        r.r1 = first.start() ? 1 : 0; // ... and the core is stuck inside call 0 from here on
    }

    @Actor
    public void shutdown(final III_Result r) {
        final int[] answered = new int[2];
        CallDescriptor.claimHeld(queue, d -> answered[d.index()]++);
        r.r2 = answered[0];
        r.r3 = answered[1];
    }
}
