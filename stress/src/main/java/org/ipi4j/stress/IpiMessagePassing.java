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
