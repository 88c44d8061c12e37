package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.CoreTimer;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The two lock-free claims of per-core timers ({@link CoreTimer}), on a live machine of
 * {@code Rigs}:
 * <ol>
 *   <li>{@link RunOrCancel}: a timer's run and a {@code cancel()} race for one CAS on the timer's
 *       state; exactly one wins: it ran and the cancel returned false, or it never ran and the
 *       cancel returned true.</li>
 *   <li>{@link ParkedCoreWakes}: a timer scheduled for a parked core wakes it. The scheduler stores
 *       the queue's {@code rearm} flag (volatile) and then reads the idle state; the core publishes
 *       PARKED and then reads {@code rearm} in its run loop's re-check: the idle handshake, with a
 *       timer as the work.</li>
 * </ol>
 * Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, {@code -m quick}, 8 JVM
 * configurations, 2026-12-02), samples summed:
 * <pre>
 *   RunOrCancel       RESULT     SAMPLES  EXPECT
 *                       0, 1   2,158,448  Acceptable  The cancel won; it never ran.
 *                       1, 0  11,004,200  Acceptable  It ran; the cancel returned false.
 *   ParkedCoreWakes        1  25,624,728  Acceptable  The core woke and ran it.
 * </pre>
 * The command that runs both:
 * <pre>
 *   java -jar stress/target/jcstress.jar -t 'TimerClaims\.' -iters 2 -time 200 -sc false
 * </pre>
 */
public final class TimerClaims {
    private TimerClaims() {
    }

    /**
     * A timer due at once on core 1, made with the state (so core 1 may already be running it when
     * the actor comes), and an actor that cancels it. The arbiter waits (bounded) for the future.
     * Result: {@code (runs, cancel returned true: 1 / false: 0)}.
     */
    @JCStressTest
    @Description("A timer's run on its core and a cancel from another thread: exactly one wins")
    @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "It ran; the cancel came too late and returned false.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The cancel won; it never ran.")
    @Outcome(expect = FORBIDDEN, desc = "Both won, neither did, or it ran twice.")
    @State
    public static class RunOrCancel {
        final AtomicInteger runs = new AtomicInteger();
        final CoreTimer timer = Rigs.MACHINE.core(1).schedule(Duration.ZERO, runs::incrementAndGet);
        boolean cancelled;

        @Actor
        public void canceller() {
            cancelled = timer.cancel();
        }

        @Arbiter
        public void arbiter(final II_Result r) {
            Rigs.await(timer::isDone);
            r.r1 = runs.get();
            r.r2 = cancelled ? 1 : 0;
        }
    }

    /**
     * An actor schedules a timer due at once on core 1, which is parked (or about to park) with no
     * other work; the arbiter waits (bounded) for the run. Result: runs.
     */
    @JCStressTest
    @Description("A timer for a parked core: the core must wake and run it")
    @Outcome(id = "1", expect = ACCEPTABLE, desc = "The core woke and ran it.")
    @Outcome(expect = FORBIDDEN, desc = "It never ran: a lost wake-up.")
    @State
    public static class ParkedCoreWakes {
        final AtomicInteger runs = new AtomicInteger();

        @Actor
        public void scheduler() {
            Rigs.MACHINE.core(1).schedule(Duration.ZERO, runs::incrementAndGet);
        }

        @Arbiter
        public void arbiter(final I_Result r) {
            Rigs.await(() -> runs.get() > 0);
            r.r1 = runs.get();
        }
    }
}
