package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.interrupts.Interrupt;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * No lost wake-up: two senders race to wake a core that is parked (or about to park). The core
 * publishes PARKED and then looks at its pending bits again; a sender sets the bit and then reads
 * the state. Whatever the interleaving, one of them sees the other, so both payloads are handled.
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT     SAMPLES     FREQ      EXPECT  DESCRIPTION
 *        2  12,272,453  100.00%  Acceptable  Both payloads handled.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t NoLostWakeup -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Two senders, one parked target on a live machine: every payload must be handled. The arbiter waits "
    + "(bounded) for the core and reports how many payloads reached the handler.")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "Both payloads handled.")
@Outcome(expect = FORBIDDEN, desc = "A payload was never handled: a lost wake-up.")
@State
public class NoLostWakeup implements Rigs.Receipt {
    final AtomicInteger handled = new AtomicInteger();

    @Override
    public void delivered(final Interrupt irq) {
        handled.incrementAndGet();
    }

    @Actor
    public void senderA() {
        Rigs.MACHINE.interrupts().send(1, Rigs.VECTOR, this);
    }

    @Actor
    public void senderB() {
        Rigs.MACHINE.interrupts().send(1, Rigs.VECTOR, this);
    }

    @Arbiter
    public void arbiter(final I_Result r) {
        Rigs.await(() -> handled.get() >= 2);
        r.r1 = handled.get();
    }
}
