package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.Duration;

import org.ipi4j.sim.Simulation;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * The simulation's hand-over, on the real class: the holder of the baton (the run's caller) makes
 * a plain write, wakes the simulated core and ends its run, which hands the baton to the core; the
 * core, resumed, reads the plain field. The simulation promises that everything a holder did is
 * visible to the next holder (partners: the volatile store of the next holder into the baton, and
 * the woken thread's volatile load that finds itself there), with no synchronisation in the code
 * it runs. Without that edge a simulated protocol could read stale data the real one could not.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *        0          0    0.00%   Forbidden  The hand-over published nothing: a stale read.
 *       42  1,692,528  100.00%  Acceptable  The core sees the holder's write.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t SimulationHandOff -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Caller (holder): data = 42 (plain), unpark the core, end the run. Core: park until handed the baton, "
    + "then read data.")
@Outcome(id = "42", expect = ACCEPTABLE, desc = "The core sees the holder's write.")
@Outcome(id = "0", expect = FORBIDDEN, desc = "The hand-over published nothing: a stale read.")
@State
public class SimulationHandOff {
    final Simulation sim = Simulation.builder().seed(1).stallTimeout(Duration.ZERO).build();
    volatile Thread core;
    int data;

    public SimulationHandOff() {
        sim.bind("handoff", 1);
    }

    @Actor
    public void core(final I_Result r) {
        sim.attach(0);
        core = Thread.currentThread();
        sim.park(this); // before the run: parked until the scheduler hands it the baton
        r.r1 = data;    // plain read
        sim.detach();   // ends the run's drain
    }

    @Actor
    public void caller() {
        try {
            sim.run(() -> {
                data = 42;  // plain write by the holder
                sim.unpark(core); // the run waited for the core to park, so core is set
                return null;
            });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
