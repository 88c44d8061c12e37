package org.ipi4j.smp;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.time.Timeline;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * {@link HeldCallsReachable} with a cancel in the middle: a core took a list of three calls and
 * gets stuck in the first; a caller cancels (or its deadline claims) the second; shutdown walks
 * the held cursor with {@code CallDescriptor.claimHeld}. The cursor names the second call for
 * ever (the core never moves on), so a shutdown that, after a lost claim, only re-read the cursor
 * would stop there and never answer the third call (the "1, 1, 0, 1" outcome, which the
 * {@code givenUp()} branch of {@code claimHeld} removes). Every call has exactly one owner.
 * Placed in {@code org.ipi4j.smp} to drive the package's own classes.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17, 2026-12-02); with the
 * {@code givenUp()} branch taken out, the same run showed "1, 1, 0, 1" in 74% of samples:
 * <pre>
 *       RESULT     SAMPLES     FREQ      EXPECT  DESCRIPTION
 *   1, 1, 0, 1           0    0.00%   Forbidden  Stranded: shutdown stopped at the cancelled call.
 *   1, 1, 1, 1  15,895,582   81.15%  Acceptable  The canceller claimed call 1; shutdown reached call 2 past it.
 *   1, 1, 1, 2   3,691,794   18.85%  Acceptable  Shutdown claimed call 1 before the canceller, and call 2.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t HeldCallsReachablePastCancelled -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Calls held behind a stuck core and a cancelled call stay reachable by shutdown. "
    + "Result: owners of call 0, of call 1, of call 2, and who owns call 1 (1 the canceller, 2 shutdown).")
@Outcome(id = "1, 1, 1, 1", expect = ACCEPTABLE, desc = "The canceller claimed call 1; shutdown reached call 2 past it.")
@Outcome(id = "1, 1, 1, 2", expect = ACCEPTABLE, desc = "Shutdown claimed call 1 before the canceller, and call 2.")
@Outcome(id = "1, 1, 0, 1", expect = FORBIDDEN, desc = "Stranded: shutdown stopped at the cancelled call.")
@Outcome(expect = FORBIDDEN, desc = "A call with no owner or two.")
@State
public class HeldCallsReachablePastCancelled {
    final CallQueue queue = new CallQueue();
    final Call call = new Call(3, Timeline.real(), null);
    final CallDescriptor[] d = call.descriptors;
    int coreStarted;
    int cancelled;
    final int[] answered = new int[3];

    public HeldCallsReachablePastCancelled() {
        call.count = 3;
        call.remoteCount = 3;
        call.arm();
        d[0].next = d[1]; // the list the core took, oldest first
        d[1].next = d[2];
        d[2].next = null;
        queue.hold(d[0]); // as left by the previous iteration of the core's loop
    }

    /**
     * The core and then a caller, in one actor (the host has two CPUs, and jcstress schedules
     * no more actors than CPUs): what races is shutdown's walk against both steps.
     */
    @Actor
    public void coreThenCanceller() {
        queue.hold(d[0].next()); // SmpCall.onCallFunction: publish the rest, then claim
        coreStarted = d[0].start() ? 1 : 0; // ... and the core is stuck inside call 0 from here on
        if (d[1].claimForGiveUp()) { // Call.cancel / CallWait.expire: claim, then answer
            d[1].ack();
            cancelled = 1;
        }
    }

    @Actor
    public void shutdown() {
        CallDescriptor.claimHeld(queue, x -> answered[x.index()]++);
    }

    @Arbiter
    public void arbiter(final IIII_Result r) {
        r.r1 = coreStarted + answered[0];
        r.r2 = cancelled + answered[1];
        r.r3 = answered[2];
        r.r4 = cancelled == 1 ? 1 : answered[1] == 1 ? 2 : 0;
    }
}
