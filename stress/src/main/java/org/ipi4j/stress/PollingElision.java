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
 * The polling elision, on the real classes: a sender that finds the core POLLING makes no system
 * call and relies on the core to notice. The core polls its pending bits once, finds nothing, and
 * gives up polling to park ({@link IdleLoop#prepareToPark}). The elision is safe only if a core
 * that moved to PARKED after the sender read POLLING still finds the IPI in its re-check.
 */
@JCStressTest
@Description("Core (polling): look at the IRR; if empty, state = PARKED and look again. Sender: raise, then "
    + "read the state, unparking only if PARKED. Result: (core parks: 1 / noticed the IPI: 0, sender unparks: 1 / elides: 0).")
@Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "Elided: the core noticed the IPI by itself.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core noticed the IPI at its re-check; the sender unparked too.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The core parks and the sender unparks it.")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the sender elided the unpark and the core went to sleep.")
@State
public class PollingElision {
    static final int VECTOR = 0x40;

    final LocalApic apic = new LocalApic(0);
    final IdleLoop idle = new IdleLoop(IdlePolicy.adaptive(1, 0));

    public PollingElision() {
        apic.enable(VECTOR, 2);
        idle.beginPolling();
    }

    @Actor
    public void core(final II_Result r) {
        if (apic.anyPending()) {                              // a polling round noticed it
            r.r1 = 0;
        } else {
            r.r1 = idle.prepareToPark(apic::anyPending) ? 1 : 0; // polling is over: park
        }
    }

    @Actor
    public void sender(final II_Result r) {
        r.r2 = apic.raise(VECTOR) && idle.wake() ? 1 : 0;
    }
}
