package org.ipi4j.bench.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The torture, bounded: about a minute of real-time runs over several seeds (2.5 s each, every
 * third 0.3 s to race more shutdowns), each asserting every oracle, then simulated runs over more seeds asserting every oracle and exact replay (the same
 * seed twice gives the same trace and the same counts). {@code -Dipi4j.torture.seed=S} runs only
 * seed S (both modes), {@code -Dipi4j.torture.realSeconds=N} changes the real-time budget.
 */
class TortureTest {
    private static final long FIRST_SEED = Long.getLong("ipi4j.torture.seed", 1);
    private static final boolean ONE_SEED = System.getProperty("ipi4j.torture.seed") != null;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void realTimeRunsKeepEveryOracle() {
        final long budget = TimeUnit.SECONDS.toNanos(Long.getLong("ipi4j.torture.realSeconds", 55));
        final Duration each = Duration.ofMillis(Long.getLong("ipi4j.torture.runMillis", 2500));
        // Every third run is short: more shutdowns racing the mix per second (a multicast the
        // machine closed midway, sends and calls in flight at close), at about a second each.
        final Duration brief = Duration.ofMillis(300);
        final long start = System.nanoTime();
        final List<String> failed = new ArrayList<>();
        long seed = FIRST_SEED;
        int runs = 0;
        long checks = 0;
        long operations = 0;
        final java.util.Map<String, Long> outcomes = new java.util.TreeMap<>();
        final java.util.Map<Torture.Kind, Long> kinds = new java.util.EnumMap<>(Torture.Kind.class);
        do {
            final Torture.Result r = Torture.run(seed, runs % 3 == 2 ? brief : each, false, null);
            runs++;
            checks += r.checksTotal();
            operations += r.operationsTotal();
            r.outcomes().forEach((k, v) -> outcomes.merge(k, v, Long::sum));
            r.operations().forEach((k, v) -> kinds.merge(k, v, Long::sum));
            System.out.println("[torture] " + r);
            if (!r.ok()) {
                failed.add(r.toString());
            }
            seed++;
        } while (!ONE_SEED && System.nanoTime() - start + each.toNanos() * 2 < budget);
        System.out.printf("[torture] %d real-time runs, %d operations, %d checks%n", runs, operations, checks);
        assertThat(failed).as("real-time runs that broke an oracle").isEmpty();
        assertThat(operations).as("operations issued").isPositive();
        // The mix reaches deadlines, cancels, backpressure and continuations, and their outcomes.
        for (final Torture.Kind k : java.util.List.of(Torture.Kind.DEADLINE_CALL, Torture.Kind.DEADLINE_ASYNC,
            Torture.Kind.CANCEL, Torture.Kind.GROUP_ASYNC, Torture.Kind.CONTINUATION)) {
            assertThat(kinds.getOrDefault(k, 0L)).as("%s operations", k).isPositive();
        }
        System.out.println("[torture] outcomes: " + outcomes);
        assertThat(outcomes).as("outcomes of the new kinds").containsKeys("call cancelled", "call timed out: targets cancelled", "call refused: queue or group full");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void simulatedRunsKeepEveryOracleAndReplayExactly() {
        final int seeds = ONE_SEED ? 1 : Integer.getInteger("ipi4j.torture.simSeeds", 6);
        final Duration virtual = Duration.ofNanos(Long.getLong("ipi4j.torture.simNanos", 2_000_000));
        final List<String> failed = new ArrayList<>();
        for (long seed = FIRST_SEED; seed < FIRST_SEED + seeds; seed++) {
            final Torture.Result a = Torture.run(seed, virtual, true, null);
            final Torture.Result b = Torture.run(seed, virtual, true, null);
            System.out.println("[torture] " + a);
            if (!a.ok()) {
                failed.add(a.toString());
            }
            assertThat(b.trace()).as("seed %d's schedule on replay", seed).isEqualTo(a.trace());
            assertThat(b.counts()).as("seed %d's counts on replay", seed).isEqualTo(a.counts());
            assertThat(a.operationsTotal()).as("seed %d's operations", seed).isPositive();
        }
        assertThat(failed).as("simulated runs that broke an oracle").isEmpty();
    }
}
