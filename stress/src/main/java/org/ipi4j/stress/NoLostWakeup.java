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
