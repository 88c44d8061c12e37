package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 4 on a simulated machine: the waited single-target fast path from two initiators at
 * once (the simulation's outside caller, which takes the clockless first spins, and core 0) to
 * core 1, which drains its queue between seeded instruction boundaries. Property: every call
 * returns its own function's result, each function runs exactly once, nothing times out (a 1 ms
 * virtual watchdog: the run takes microseconds), and the same seed gives the same schedule.
 * Reached: the two initiators' calls met on core 1's queue (one was coalesced behind the other).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class Review4SimTest {
    private static final int CALLS = 4;
    static final LongFunction<Simulation> PCT = ExplorationScenarios.pct(3, 40);

    static ExplorationScenarios.Verdict twoInitiators(final Simulation sim) throws Exception {
        final SplittableRandom r = new SplittableRandom(sim.seed() ^ 0x4EE4L);
        final int busy = r.nextInt(20);
        final List<String> broken = Collections.synchronizedList(new ArrayList<>());
        final Machine m = Machine.builder().name("review4-" + sim.seed()).cores(3).simulation(sim).build().start();
        boolean reached = false;
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(1), Broadcast.flat());
            final int[] ran = new int[2 * CALLS]; // under the baton
            sim.run(() -> {
                final CompletableFuture<?> target = m.core(1).submit(() -> {
                    for (int i = 0; i < busy; i++) {
                        Core.current().checkpoint();
                    }
                });
                final CompletableFuture<?> fromCore = m.core(0).submit(() -> calls(smp, 0, ran, broken));
                calls(smp, CALLS, ran, broken); // the outside caller
                sim.await(fromCore);
                sim.await(target);
                return null;
            });
            for (int i = 0; i < ran.length; i++) {
                if (ran[i] != 1) {
                    broken.add("call " + i + "'s function ran " + ran[i] + " times");
                }
            }
            reached = smp.ipisCoalesced() > 0;
        } catch (SimulationException | ExecutionException | CallTimeoutException e) {
            broken.add("the run failed: " + e);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        return new ExplorationScenarios.Verdict(sim.seed(), sim.trace(), sim.steps(), reached, List.copyOf(broken));
    }

    private static void calls(final SmpCall smp, final int first, final int[] ran, final List<String> broken) {
        for (int i = first; i < first + CALLS; i++) {
            final int id = i;
            final int got = smp.call(1, c -> {
                ran[id]++;
                return id * 10 + c;
            });
            if (got != id * 10 + 1) {
                broken.add("call " + id + " returned " + got);
            }
        }
    }

    @Test
    void theSameSeedReplaysTheSameSchedule() throws Exception {
        for (long seed = 0; seed < 5; seed++) {
            final ExplorationScenarios.Verdict a = twoInitiators(PCT.apply(seed));
            final ExplorationScenarios.Verdict b = twoInitiators(PCT.apply(seed));
            assertThat(b.trace()).as("seed %d's schedule, replayed", seed).isEqualTo(a.trace());
            assertThat(b.toString()).isEqualTo(a.toString());
            final long s = seed;
            final ExplorationScenarios.Verdict c = twoInitiators(Simulation.builder().seed(s).build());
            final ExplorationScenarios.Verdict d = twoInitiators(Simulation.builder().seed(s).build());
            assertThat(d.trace()).as("seed %d, default mode, replayed", seed).isEqualTo(c.trace());
        }
    }

    @Test
    void twoInitiatorsOnTheFastPathUnderPct() throws Exception {
        final ExplorationTest.Exploration e = ExplorationTest.explore(Review4SimTest::twoInitiators, PCT, 0,
            Long.getLong("ipi4j.review4.seeds", 400));
        System.out.println("review4 twoInitiators, PCT: " + e);
        assertThat(e.failures()).as(e.toString()).isEmpty();
        assertThat(e.reached()).as("runs where the two initiators met on core 1's queue, " + e).isPositive();
    }
}
