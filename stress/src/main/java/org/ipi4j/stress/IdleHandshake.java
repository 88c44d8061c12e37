package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.apic.IdleLoop;
import org.ipi4j.apic.LocalApic;
import org.ipi4j.idle.IdlePolicy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The idle handshake itself, on the real classes: the core publishes PARKED and looks at its
 * pending bits again ({@link IdleLoop#prepareToPark}); the sender raises a vector and looks at the
 * core's state ({@link LocalApic#raise} then {@link IdleLoop#wake()}). This is the store-buffering
 * (Dekker) pattern: with release/acquire alone both could miss each other and the core would
 * sleep on a pending interrupt. The loop is bound to no thread, so {@code wake()} decides but its
 * unpark is a no-op.
 */
@JCStressTest
@Description("Core: state = PARKED, then re-check the IRR. Sender: raise the vector, then read the state. "
    + "Result: (core parks: 1 / saw the IPI: 0, sender unparks: 1 / elides: 0).")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The core saw the IPI before sleeping; the sender saw it awake.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core saw the IPI; the sender unparked it too (a spare unpark).")
@Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "The core parks and the sender unparks it.")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the core sleeps on a pending IPI nobody will signal.")
@State
public class IdleHandshake {
    static final int VECTOR = 0x40;

    final LocalApic apic = new LocalApic(0);
    final IdleLoop idle = new IdleLoop(IdlePolicy.park());

    public IdleHandshake() {
        apic.enable(VECTOR, 2);
    }

    @Actor
    public void core(final II_Result r) {
        r.r1 = idle.prepareToPark(apic::anyPending) ? 1 : 0;
    }

    @Actor
    public void sender(final II_Result r) {
        r.r2 = apic.raise(VECTOR) && idle.wake() ? 1 : 0;
    }
}
