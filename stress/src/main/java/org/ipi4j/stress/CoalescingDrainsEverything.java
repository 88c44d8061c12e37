package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.apic.LocalApic;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Coalescing: the vector is already pending (one payload queued) when two sends of it race with
 * the receiver taking the interrupt once (the second sender then takes it, as a core sending to
 * itself would). Whatever the interleaving, the entries taken (then one more at the arbiter's
 * boundary) drain all three payloads, and no payload is left in the mailbox with its bit clear.
 * Two actors, so it runs on a 2-CPU host.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *    RESULT    SAMPLES     FREQ       EXPECT  DESCRIPTION
 *   3, 0, 0          0    0.00%   Acceptable  The receiver cleared the bit between; each send raised anew.
 *   3, 0, 1    380,783    4.01%   Acceptable  One send coalesced, the other raised a new request.
 *   3, 0, 2  9,120,614   95.99%  Interesting  Both sends coalesced into the already pending request.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t CoalescingDrainsEverything -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Same-vector requests coalesce while pending, but no payload is stranded: senders offer, then raise "
    + "(skipping the write when the bit is already set); the receiver clears the bit, then drains. Result: payloads handled, payloads stranded, raises that coalesced.")
@Outcome(id = "3, 0, 2", expect = ACCEPTABLE_INTERESTING, desc = "Both sends coalesced into the already pending request.")
@Outcome(id = "3, 0, 1", expect = ACCEPTABLE, desc = "One send coalesced, the other raised a new request.")
@Outcome(id = "3, 0, 0", expect = ACCEPTABLE, desc = "The receiver cleared the bit between; each send raised anew.")
@Outcome(expect = FORBIDDEN, desc = "A payload was lost or stranded without a pending bit.")
@State
public class CoalescingDrainsEverything {
    static final int VECTOR = 0x40;

    final LocalApic apic = new LocalApic(0);
    int handledByReceiver;
    int coalescedA;
    int coalescedB;

    public CoalescingDrainsEverything() {
        apic.enable(VECTOR, 8);
        apic.offer(VECTOR, "first");
        apic.raise(VECTOR);
    }

    @Actor
    public void senderA() {
        apic.offer(VECTOR, "a");
        coalescedA = apic.raiseAfterOffer(VECTOR) ? 0 : 1; // a payload send: test before test-and-set
    }

    @Actor
    public void senderBThenReceiver() {
        apic.offer(VECTOR, "b");
        coalescedB = apic.raiseAfterOffer(VECTOR) ? 0 : 1;
        if (apic.highestPending() == VECTOR) { // the next instruction boundary
            handledByReceiver = apic.accept(VECTOR).size();
        }
    }

    @Arbiter
    public void nextBoundary(final III_Result r) {
        int handled = handledByReceiver;
        if (apic.pending(VECTOR)) {
            handled += apic.accept(VECTOR).size();
        }
        r.r1 = handled;
        r.r2 = apic.accept(VECTOR).size(); // anything still queued now had no pending bit: stranded
        r.r3 = coalescedA + coalescedB;
    }
}
