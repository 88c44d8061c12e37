package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.ipi4j.sim.CostModel;

/**
 * What the lab measures and for how long. Immutable.
 *
 * @param smoke        tiny counts: proves the lab works, its numbers mean nothing
 * @param duration     back-to-back measuring time per round-trip trial (also capped by count)
 * @param pace         nominal time between paced requests
 * @param pacedSamples paced requests per variant and repeat
 * @param repeat       repeats of every figure but the round trips (median and min-max are reported)
 * @param rounds       rounds of the round-trip part: each runs every variant once, beside its floor
 * @param cores        core counts for the cross-core call and shootdown parts
 * @param variants     round-trip variants to run, in report order
 * @param parts        parts to run: roundtrip, floors, matrix, smp, shootdown, storm, virt, loadcurve, calibration, sim
 * @param simCores     core counts of the simulated part
 * @param seed         the simulated part's seed
 * @param costModel    the simulated part's cost model (a {@code --cost-model} file's), or null: the one this run's
 *                     calibration measures
 */
public record Settings(boolean smoke, Duration duration, Duration pace, int pacedSamples, int repeat, int rounds,
                       List<Integer> cores,
                       List<String> variants, List<String> parts, List<Integer> simCores, long seed, CostModel costModel) {
    /** The parts, in the order they run. */
    public static final List<String> PARTS = List.of("roundtrip", "floors", "matrix", "smp", "shootdown", "storm", "virt",
        "loadcurve", "calibration", "sim");
    /** The simulated part's default core counts. */
    public static final List<Integer> SIM_CORES = List.of(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024);

    /** Settings without the simulated part's own (its default core counts, seed 1). */
    public Settings(final boolean smoke, final Duration duration, final Duration pace, final int pacedSamples,
                    final int repeat, final List<Integer> cores, final List<String> variants, final List<String> parts) {
        this(smoke, duration, pace, pacedSamples, repeat, repeat, cores, variants, parts, SIM_CORES, 1, null);
    }

    /** {@return warm-up round trips at most, before the first repeat of a variant} */
    public int warmupCount() {
        return smoke ? 200 : 20_000;
    }

    /**
     * {@return warm-up round trips at most, before a later trial of a variant}: the JIT compiled
     * its code in the first; what is left to warm is the new machine's threads and caches
     */
    public int laterWarmupCount() {
        return smoke ? 50 : 2_000;
    }

    /** {@return how long warm-up may take at most} */
    public Duration warmupTime() {
        return smoke ? Duration.ofMillis(50) : Duration.ofMillis(500);
    }

    /** {@return back-to-back round trips at most per repeat} */
    public int backToBackCount() {
        return smoke ? 500 : 100_000;
    }

    /** {@return cross-core calls per shape, core count and repeat} */
    public int callCount() {
        return smoke ? 100 : 5_000;
    }

    /** {@return one-page shootdowns per core count and repeat} */
    public int shootdownCount() {
        return smoke ? 50 : 2_000;
    }

    /** {@return unmap storms per strategy and repeat} */
    public int stormCount() {
        return smoke ? 5 : 200;
    }

    /** {@return the settings as recorded in a report} */
    public Map<String, Object> toMap() {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", smoke ? "smoke (tiny counts: numbers meaningless)" : "measure");
        m.put("repeat", repeat);
        m.put("round-trip rounds", rounds);
        m.put("b2b time per trial", duration.toString());
        m.put("pace", (pace.toNanos() / 1000) + " us");
        m.put("paced samples", pacedSamples);
        m.put("cores", cores);
        m.put("variants", variants);
        m.put("parts", parts);
        if (parts.contains("sim")) {
            m.put("simulated cores", simCores);
            m.put("seed", seed);
            m.put("cost model", costModel == null ? "calibrated in this run" : costModel.toString());
        }
        return m;
    }
}
