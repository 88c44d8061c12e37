package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

import org.HdrHistogram.Histogram;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.ipi4j.Machine;
import org.ipi4j.bench.RoundTrip;

/**
 * Round-trip variants and their floors measured as randomized multiple interleaved trials (Abedi
 * and Brecht, "Conducting Repeatable Experiments in Highly Variable Cloud Computing
 * Environments", ICPE 2017): every round runs one short trial of each variant and of each floor,
 * in a fresh random order, so a speed regime of the host (they last seconds to minutes here)
 * falls on the variant and its floor alike. A variant's ratio is the median over rounds of
 * {@code p50(variant) / p50(floor)} within the same round, with a 95% bootstrap confidence
 * interval over the rounds; a floor whose own per-round medians spread more than
 * {@link #DRIFT_WARNING} is flagged, since the ratio then rests on a moving reference.
 *
 * <p>Each trial starts its round trip afresh (a new machine for ipi4j), warms it for the warm-up
 * time and then records back-to-back round trips for the trial time; the JIT's work carries over
 * between trials, which is why the first round is a warm-up round and is not counted. Not
 * thread-safe; one run at a time (the trials themselves use the host's CPUs).
 */
final class Trials {
    /** A floor whose per-round medians spread more than this (max / min) is flagged as drifting. */
    static final double DRIFT_WARNING = 1.5;
    private static final int RESAMPLES = 2000;

    /** One trial: a variant's median round trip in one round. */
    record Trial(int round, String variant, String floor, double p50Nanos, long samples, boolean oversubscribed) {
    }

    /**
     * A variant against its floor over the same rounds.
     *
     * @param ratio the median of per-round ratios
     * @param low   the 2.5th percentile of the bootstrap medians
     * @param high  the 97.5th percentile of the bootstrap medians
     * @param floorDrift the floor's max / min per-round median
     */
    record Comparison(String variant, String floor, double p50Nanos, double floorP50Nanos, double ratio, double low,
                      double high, int rounds, double floorDrift, boolean oversubscribed) {
        boolean drifting() {
            return floorDrift > DRIFT_WARNING;
        }
    }

    private Trials() {
    }

    /**
     * Runs {@code rounds} counted rounds (plus one warm-up round) of the variants and their floors.
     *
     * @param variants round-trip variant names ({@link RoundTrip#variants()}); their floors are added
     * @param progress told of every counted trial as it ends
     * @return the counted trials, in the order they ran
     */
    static List<Trial> run(final List<String> variants, final Duration warmUp, final Duration trial, final int rounds,
                           final long seed, final Consumer<Trial> progress) {
        final Map<String, String> floors = new LinkedHashMap<>();
        final Set<String> all = new LinkedHashSet<>();
        for (final String v : variants) {
            final String floor = RoundTripPart.floorName(RoundTrip.floorOf(v));
            floors.put(v, floor);
            all.add(v);
            if (floor != null) {
                all.add(floor);
                floors.put(floor, null);
            }
        }
        final Random random = new Random(seed);
        final List<Trial> trials = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
            final List<String> order = new ArrayList<>(all);
            Collections.shuffle(order, random);
            for (final String v : order) {
                final Trial t = once(round, v, floors.get(v), warmUp, trial);
                if (round > 0) { // round 0 warms the JIT for every variant alike
                    trials.add(t);
                    progress.accept(t);
                }
            }
        }
        return trials;
    }

    private static Trial once(final int round, final String variant, final String floor, final Duration warmUp,
                              final Duration trial) {
        try (RoundTrip rt = RoundTrip.create(variant)) {
            final boolean oversubscribed = 1 + rt.responderThreads().size() > Machine.hostCpus();
            long until = System.nanoTime() + warmUp.toNanos();
            while (System.nanoTime() < until) {
                rt.roundTrip();
            }
            final Histogram h = new Histogram(3);
            until = System.nanoTime() + trial.toNanos();
            long now = System.nanoTime();
            while (now < until) {
                rt.roundTrip();
                final long end = System.nanoTime();
                h.recordValue(end - now);
                now = end;
            }
            return new Trial(round, variant, floor, h.getValueAtPercentile(50), h.getTotalCount(), oversubscribed);
        }
    }

    /** Every variant that has a floor, against it, round by round. */
    static List<Comparison> compare(final List<Trial> trials, final long seed) {
        final Map<String, Map<Integer, Trial>> byVariant = new LinkedHashMap<>();
        for (final Trial t : trials) {
            byVariant.computeIfAbsent(t.variant(), k -> new LinkedHashMap<>()).put(t.round(), t);
        }
        final List<Comparison> out = new ArrayList<>();
        final Random random = new Random(seed);
        for (final Map.Entry<String, Map<Integer, Trial>> e : byVariant.entrySet()) {
            final Trial any = e.getValue().values().iterator().next();
            final Map<Integer, Trial> floor = any.floor() == null ? null : byVariant.get(any.floor());
            if (floor == null) {
                continue;
            }
            final List<Double> ratios = new ArrayList<>();
            final List<Double> p50 = new ArrayList<>();
            final List<Double> floorP50 = new ArrayList<>();
            boolean oversubscribed = false;
            for (final Trial t : e.getValue().values()) {
                final Trial f = floor.get(t.round());
                if (f != null) {
                    ratios.add(t.p50Nanos() / f.p50Nanos());
                    p50.add(t.p50Nanos());
                    floorP50.add(f.p50Nanos());
                    oversubscribed |= t.oversubscribed() || f.oversubscribed();
                }
            }
            final double[] r = unbox(ratios);
            final double[] boot = new double[RESAMPLES];
            final double[] resample = new double[r.length];
            for (int i = 0; i < RESAMPLES; i++) {
                for (int j = 0; j < r.length; j++) {
                    resample[j] = r[random.nextInt(r.length)];
                }
                boot[i] = median(resample);
            }
            final double[] f = unbox(floorP50);
            double min = Double.MAX_VALUE;
            double max = 0;
            for (final double x : f) {
                min = Math.min(min, x);
                max = Math.max(max, x);
            }
            out.add(new Comparison(e.getKey(), any.floor(), median(unbox(p50)), median(f), median(r),
                new Percentile().evaluate(boot, 2.5), new Percentile().evaluate(boot, 97.5), r.length, max / min,
                oversubscribed));
        }
        return out;
    }

    /** The comparisons as a Markdown table, with what a reader needs to trust it. */
    static String table(final List<Comparison> comparisons, final int rounds, final Duration trial) {
        final StringBuilder b = new StringBuilder();
        b.append("Interleaved trials: ").append(rounds).append(" rounds of ").append(trial.toMillis())
            .append(" ms per variant, random order per round; ratio = median over rounds of p50(variant) / p50(floor) "
                + "in the same round, [95% bootstrap CI].\n\n");
        b.append("| variant | floor | p50 ns (median of rounds) | floor p50 ns | ratio | 95% CI | floor drift |\n");
        b.append("|---|---|---:|---:|---:|---|---:|\n");
        for (final Comparison c : comparisons) {
            b.append(String.format("| %s%s | %s | %.0f | %.0f | %.2fx | [%.2f-%.2f] | %.2fx%s |%n", c.variant(),
                c.oversubscribed() ? " (oversubscribed)" : "", c.floor(), c.p50Nanos(), c.floorP50Nanos(), c.ratio(),
                c.low(), c.high(), c.floorDrift(), c.drifting() ? " DRIFTING" : ""));
        }
        return b.toString();
    }

    private static double[] unbox(final List<Double> values) {
        final double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }

    private static double median(final double[] values) {
        return new Percentile().evaluate(values, 50);
    }
}
