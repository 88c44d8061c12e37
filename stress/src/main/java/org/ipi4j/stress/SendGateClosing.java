package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.TimeUnit;

import org.ipi4j.apic.SendGate;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.time.Timeline;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The closing protocol ({@link SendGate}) against a core whose send nests another: the outer send
 * enters and finds the gate open, its BLOCK back-off runs a handler that sends (enters and exits
 * again), and then it checks again and offers its payload. The closer closes and then looks at the
 * mailbox. Once {@code close} has returned, no payload may still land: either the sender was
 * refused, or the closer sees its payload. With a one-bit marker instead of a depth (the nested
 * exit clears it while the outer send is still inside), "1, 0" appears: the bug the composition
 * review found. Run alone: {@code java -jar stress/target/jcstress.jar -t SendGateClosing}.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *     0, 0  4,328,576   38.72%  Acceptable  Refused by the closed gate: nothing was queued.
 *     1, 0          0    0.00%   Forbidden  The payload landed after close() returned: neither handled nor reported.
 *     1, 1  6,851,760   61.28%  Acceptable  Offered before the close; the closer waited for it and sees it.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t SendGateClosing -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("A payload offered through an open gate is seen by the closer once close() returned, even with a nested send. "
    + "Result: the outer send offered, the closer saw the payload.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Offered before the close; the closer waited for it and sees it.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Refused by the closed gate: nothing was queued.")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "The payload landed after close() returned: neither handled nor reported.")
@State
public class SendGateClosing {
    final SendGate gate = new SendGate("jcstress", 1, 1, Timeline.real());
    /** The mailbox: written by the sender between its check and its exit, read by the closer after close. */
    int mailbox;

    @Actor
    public void sender(final II_Result r) {
        gate.enter(0);
        try {
            gate.checkOpen();
            // The offer failed (a full mailbox): the back-off takes a handler, which sends.
            gate.enter(0);
            try {
                gate.checkOpen();
            } catch (MachineClosedException refused) {
                // the nested send is refused: that is fine, it queued nothing
            } finally {
                gate.exit(0);
            }
            gate.checkOpen(); // the outer send's check right before its next offer
            mailbox = 1;
            r.r1 = 1;
        } catch (MachineClosedException refused) {
            r.r1 = 0;
        } finally {
            gate.exit(0);
        }
    }

    @Actor
    public void closer(final II_Result r) {
        gate.close(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        r.r2 = mailbox;
    }
}
