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
 * The idle handshake, told in four steps on the real {@link IdleLoop} and {@link LocalApic}: how a
 * core that goes to sleep and a sender that raises an interrupt never miss each other. Every step
 * has two actors, the core and the sender, and the same result: {@code (core parks: 1 / saw the
 * IPI: 0, sender unparks: 1 / does not: 0)}. {@code 1, 0} is the lost wake-up: the core sleeps on
 * a pending interrupt that nobody will signal. Read them in order:
 * <ol>
 *   <li>{@link ParkThenRecheck}: the handshake. The core publishes PARKED, then looks at its
 *       pending bits again; the sender raises, then reads the state. {@code 1, 0} is forbidden.</li>
 *   <li>{@link CheckThenPark}: the same two methods with the re-check taken away (a negative
 *       control). {@code 1, 0} appears: the look before PARKED is not enough.</li>
 *   <li>{@link PollingElision}: a sender that finds the core polling makes no system call; the
 *       re-check is what makes that safe when the core stops polling to park.</li>
 *   <li>{@link Posted}: posted-interrupt mode, where a sender that finds the notification bit ON
 *       signals nothing; the core's clear of ON before its re-check is what makes that safe.</li>
 * </ol>
 * The loops are bound to no thread, so {@code wake()} decides but its unpark is a no-op: each
 * result is the decision, which is what the handshake is about.
 *
 * <p>Each step's result table is from one run on the project's 2-CPU host (x86_64, AMD EPYC,
 * OpenJDK 17.0.15, 2026-12-02), after {@code mvn -B -q package -DskipTests}, with the command in
 * its Javadoc: jcstress's default mode without split per-actor compilation, 2 iterations of
 * 200 ms, 16 forks over 8 JVM configurations (interpreter, C1, C2, C2 with its randomizers; biased
 * locking on and off), samples summed over all of them. The whole story:
 * <pre>
 *   java -jar stress/target/jcstress.jar -t 'IdleHandshake\.' -iters 2 -time 200 -sc false
 * </pre>
 * The test command's bounded run (stress/pom.xml) runs every step but {@link CheckThenPark}: its
 * lost wake-up is allowed, so it cannot fail on ipi4j's code and would only add time.
 */
public final class IdleHandshake {
    static final int VECTOR = 0x40;

    private IdleHandshake() {
    }

    /*
     * ------------------------------------------------------------------------------------------
     */

    /**
     * Step 1, the handshake: the core publishes PARKED and looks at its pending bits again
     * ({@link IdleLoop#prepareToPark}); the sender raises a vector and looks at the core's state
     * ({@link LocalApic#raise} then {@link IdleLoop#wake()}). This is the store-buffering
     * (Dekker) pattern: each side stores, then loads what the other stored. With volatile accesses
     * on both sides the Java memory model's total order over them lets at least one side see the
     * other, so {@code 1, 0} is forbidden; with release/acquire alone both could miss each other.
     * (Checked when this test was added: with PARKED published by a release store and the IRR
     * re-checked with acquire loads, quick mode reported {@code 1, 0} in up to 0.27% of samples
     * on this x86 host.)
     * <pre>
     *   RESULT     SAMPLES     FREQ       EXPECT  DESCRIPTION
     *     0, 0   2,963,549   22.13%   Acceptable  The core saw the IPI before sleeping; the sender saw it awake.
     *     0, 1     199,139    1.49%   Acceptable  The core saw the IPI; the sender unparked it too (a spare unpark).
     *     1, 0           0    0.00%    Forbidden  Lost wake-up: the core sleeps on a pending IPI nobody will signal.
     *     1, 1  10,229,488   76.38%  Interesting  The core parks and the sender unparks it.
     * </pre>
     * {@code 0, 1} is the sender reading PARKED between the core's store and its re-check, which
     * then finds the bit: a spare unpark, harmless.
     * <pre>
     *   java -jar stress/target/jcstress.jar -t 'IdleHandshake.ParkThenRecheck' -iters 2 -time 200 -sc false
     * </pre>
     */
    @JCStressTest
    @Description("Core: state = PARKED, then re-check the IRR. Sender: raise the vector, then read the state. "
        + "Result: (core parks: 1 / saw the IPI: 0, sender unparks: 1 / elides: 0).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The core saw the IPI before sleeping; the sender saw it awake.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core saw the IPI; the sender unparked it too (a spare unpark).")
    @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "The core parks and the sender unparks it.")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the core sleeps on a pending IPI nobody will signal.")
    @State
    public static class ParkThenRecheck {
        final LocalApic apic = new LocalApic(0);
        final IdleLoop idle = new IdleLoop(IdlePolicy.park());

        public ParkThenRecheck() {
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

    /*
     * ------------------------------------------------------------------------------------------
     */

    /**
     * Step 2, a negative control: what goes wrong without the re-check. The core looks at its
     * bits first and, finding nothing, publishes PARKED and parks without looking again (its
     * {@code prepareToPark} is given a condition that never holds). The sender is step 1's. Now
     * {@code 1, 0} needs no reordering at all, only this interleaving: the core looks (nothing),
     * the sender raises and reads the state (not parked: no unpark), the core publishes PARKED and
     * sleeps on the sender's bit. It is marked interesting, not forbidden: this is not ipi4j's
     * code, it shows what step 1's order excludes.
     * <pre>
     *   RESULT     SAMPLES     FREQ       EXPECT  DESCRIPTION
     *     0, 0   1,461,235   11.94%   Acceptable  The core saw the IPI at its only look and never published PARKED.
     *     0, 1           0    0.00%    Forbidden  The sender saw PARKED, which a core that saw the IPI never publishes.
     *     1, 0     270,274    2.21%  Interesting  Lost wake-up: the core looked before the raise, the sender read the state before PARKED.
     *     1, 1  10,503,547   85.85%   Acceptable  The core parks and the sender unparks it.
     * </pre>
     * <pre>
     *   java -jar stress/target/jcstress.jar -t 'IdleHandshake.CheckThenPark' -iters 2 -time 200 -sc false
     * </pre>
     */
    @JCStressTest
    @Description("Negative control. Core: look at the IRR; if empty, state = PARKED and park without looking again. "
        + "Sender: raise the vector, then read the state. Result: (core parks: 1 / saw the IPI: 0, sender unparks: 1 / "
        + "elides: 0).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The core saw the IPI at its only look and never published PARKED.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The core parks and the sender unparks it.")
    @Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "Lost wake-up: the core looked before the raise, the sender read the state before PARKED.")
    @Outcome(id = "0, 1", expect = FORBIDDEN, desc = "The sender saw PARKED, which a core that saw the IPI never publishes.")
    @State
    public static class CheckThenPark {
        final LocalApic apic = new LocalApic(0);
        final IdleLoop idle = new IdleLoop(IdlePolicy.park());

        public CheckThenPark() {
            apic.enable(VECTOR, 2);
        }

        @Actor
        public void core(final II_Result r) {
            if (apic.anyPending()) {
                r.r1 = 0;
            } else {
                r.r1 = idle.prepareToPark(() -> false) ? 1 : 0; // the broken order: no look after PARKED
            }
        }

        @Actor
        public void sender(final II_Result r) {
            r.r2 = apic.raise(VECTOR) && idle.wake() ? 1 : 0;
        }
    }

    /*
     * ------------------------------------------------------------------------------------------
     */

    /**
     * Step 3, the polling elision: a sender that finds the core POLLING makes no system call and
     * relies on the core to notice. The core polls its pending bits once, finds nothing, and gives
     * up polling to park ({@link IdleLoop#prepareToPark}). The elision is safe only if a core that
     * moved to PARKED after the sender read POLLING still finds the IPI in its re-check: step 1's
     * order, after one more look than step 2's.
     * <pre>
     *   RESULT    SAMPLES     FREQ       EXPECT  DESCRIPTION
     *     0, 0  2,827,153   27.02%  Interesting  Elided: the core noticed the IPI by itself.
     *     0, 1    620,518    5.93%   Acceptable  The core noticed the IPI at its re-check; the sender unparked too.
     *     1, 0          0    0.00%    Forbidden  Lost wake-up: the sender elided the unpark and the core went to sleep.
     *     1, 1  7,015,865   67.05%   Acceptable  The core parks and the sender unparks it.
     * </pre>
     * <pre>
     *   java -jar stress/target/jcstress.jar -t 'IdleHandshake.PollingElision' -iters 2 -time 200 -sc false
     * </pre>
     */
    @JCStressTest
    @Description("Core (polling): look at the IRR; if empty, state = PARKED and look again. Sender: raise, then "
        + "read the state, unparking only if PARKED. Result: (core parks: 1 / noticed the IPI: 0, sender unparks: 1 / elides: 0).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "Elided: the core noticed the IPI by itself.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core noticed the IPI at its re-check; the sender unparked too.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The core parks and the sender unparks it.")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the sender elided the unpark and the core went to sleep.")
    @State
    public static class PollingElision {
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

    /*
     * ------------------------------------------------------------------------------------------
     */

    /**
     * Step 4, posted-interrupt mode, starting with a notification outstanding (ON set by an
     * earlier send): the core publishes PARKED and looks at its bits again, clearing ON first
     * ({@link LocalApic#anyPending()}); the sender sets its bit and then tries to set ON
     * ({@link LocalApic#postNotification()}), signalling only if it did. A sender that finds ON
     * set relies on the core's next look at the bits; the core's clearing of ON before that look
     * is what makes this safe (removing the clear was checked to be caught when this test was
     * added).
     * <pre>
     *   RESULT    SAMPLES     FREQ       EXPECT  DESCRIPTION
     *     0, 0  6,039,557   45.31%   Acceptable  The core saw the bit; the sender's notification was suppressed or elided.
     *     0, 1    117,901    0.88%   Acceptable  The core saw the bit; the sender also signalled it.
     *     1, 0          0    0.00%    Forbidden  Lost wake-up: the core sleeps on a posted interrupt nobody signals.
     *     1, 1  7,173,278   53.81%  Interesting  The core parks and the sender's notification unparks it.
     * </pre>
     * <pre>
     *   java -jar stress/target/jcstress.jar -t 'IdleHandshake.Posted' -iters 2 -time 200 -sc false
     * </pre>
     */
    @JCStressTest
    @Description("Posted mode with ON already set. Core: PARKED, then clear ON and re-check the PIR. Sender: set the "
        + "bit, then set ON (signal only on 0 -> 1). Result: (core parks: 1 / saw it: 0, sender unparks: 1 / not: 0).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The core saw the bit; the sender's notification was suppressed or elided.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The core saw the bit; the sender also signalled it.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE_INTERESTING, desc = "The core parks and the sender's notification unparks it.")
    @Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Lost wake-up: the core sleeps on a posted interrupt nobody signals.")
    @State
    public static class Posted {
        final LocalApic apic = new LocalApic(0, DeliveryMode.POSTED);
        final IdleLoop idle = new IdleLoop(IdlePolicy.park());

        public Posted() {
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
}
