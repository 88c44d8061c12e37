package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.apic.IdleLoop;
import org.ipi4j.apic.LocalApic;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The idle handshake in posted-interrupt mode, on the real classes, starting with a notification
 * outstanding (ON set by an earlier send): the core publishes PARKED and looks at its bits again,
 * clearing ON first ({@link LocalApic#anyPending()}); the sender sets its bit and then tries to
 * set ON ({@link LocalApic#postNotification()}), signalling only if it did. A sender that finds ON
 * set relies on the core's next look at the bits; the core's clearing of ON before that look is
 * what makes this safe.
 */
@JCStressTest
@Description("Posted mode with ON already set. Core: PARKED, then clear ON and re-check the PIR. Sender: set the "
    + "bit, then set ON (signal only on 0 -> 1). Result: (core parks: 1 / saw it: 0, sender unparks: 1 / not: 0).")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The core saw the bit; the sender's notification was suppressed or elided.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core saw the bit; the sender also signalled it.")
@Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "The core parks and the sender's notification unparks it.")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the core sleeps on a posted interrupt nobody signals.")
@State
public class PostedIdleHandshake {
    static final int VECTOR = 0x40;

    final LocalApic apic = new LocalApic(0, DeliveryMode.POSTED);
    final IdleLoop idle = new IdleLoop(IdlePolicy.park());

    public PostedIdleHandshake() {
        apic.enable(VECTOR, 2);
        apic.postNotification(); // an earlier send's notification, not yet seen by the core
    }

    @Actor
    public void core(final II_Result r) {
        r.r1 = idle.prepareToPark(apic::anyPending) ? 1 : 0;
    }

    @Actor
    public void sender(final II_Result r) {
        r.r2 = apic.raise(VECTOR) && apic.postNotification() && idle.wake() ? 1 : 0;
    }
}
