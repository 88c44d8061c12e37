package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.apic.LocalApic;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Message passing through an IPI: the sender writes ordinary data (not the payload) and then
 * raises the vector; the receiver, at its instruction boundary, sees the pending bit, accepts the
 * interrupt and reads the data. Drives {@link LocalApic}, the exact code a core runs.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *    0, -1  3,814,471   27.74%  Acceptable  The IPI was not pending yet at this boundary; it will be taken at a later one.
 *     1, 0          0    0.00%   Forbidden  The handler ran but saw stale data: the send would not be a happens-before edge.
 *    1, 42  9,936,105   72.26%  Acceptable  The IPI was taken and the handler saw the data.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t IpiMessagePassing -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("The sender's plain write before send() must be visible to the handler that takes the IPI: "
    + "raise() is a volatile read-modify-write of the IRR word and the receiver reads that word with acquire, "
    + "so seeing the pending bit means seeing everything written before it.")
@Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "The IPI was taken and the handler saw the data.")
@Outcome(id = "0, -1", expect = ACCEPTABLE, desc = "The IPI was not pending yet at this boundary; it will be taken at a later one.")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "The handler ran but saw stale data: the send would not be a happens-before edge.")
@State
public class IpiMessagePassing {
    static final int VECTOR = 0x40;

    final LocalApic apic = new LocalApic(0);
    int data;

    public IpiMessagePassing() {
        apic.enable(VECTOR, 2);
    }

    @Actor
    public void sender() {
        data = 42;
        apic.raise(VECTOR); // InterruptController.send without a payload: a pure doorbell
    }

    @Actor
    public void receiver(final II_Result r) {
        if (apic.highestPending() == VECTOR) { // the boundary check a core makes
            apic.accept(VECTOR);                // interrupt entry
            r.r1 = 1;
            r.r2 = data;                        // what the handler reads
        } else {
            r.r1 = 0;
            r.r2 = -1;
        }
    }
}
