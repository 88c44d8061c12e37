package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
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
 * Environments", ICPE 2017): every round runs one block per variant, in a fresh random order, and
 * a block is the variant beside its references (its floor, a host peer) back to back in random
 * order ({@link Schedule}), so a speed regime of the host (they last a second to minutes here)
 * falls on the variant and its references alike. A variant's ratio is the median over blocks of
 * {@code p50(variant) / p50(reference)} within the same block, with a 95% bootstrap confidence
 * interval over the blocks; a floor whose own trial medians spread more than
 * {@link #DRIFT_WARNING} is flagged, since the ratio then rests on a moving reference.
 *
 * <p>Each trial starts its round trip afresh (a new machine for ipi4j), warms it for the warm-up
 * time and then records back-to-back round trips for the trial time; the JIT's work carries over
 * between trials, which is why the first round is a warm-up round and is not counted. Not
 * thread-safe; one run at a time (the trials themselves use the host's CPUs).
 *
 * <h2>The host's interrupts underneath</h2>
 * Each trial also reads the host's interrupt counts ({@link HostInterrupts}) before and after its
 * measured part, and every round holds one more trial, {@value #IDLE}: the lab doing nothing for
 * the same time, in the same shuffled order. A variant's host interrupts per round trip are the
 * median over rounds of (its count less the same round's idle count) / its round trips: what the
 * host's kernel did for the emulation, its timer and the neighbours' noise taken out.
 */
final class Trials {
    /** A floor whose trial medians spread more than this (max / min) is flagged as drifting. */
    static final double DRIFT_WARNING = 1.5;
    /** The trial of each round that measures nothing: the host's interrupts at rest, for the same time. */
    static final String IDLE = "idle";
    private static final int RESAMPLES = 2000;

    /**
     * One trial: a variant's median round trip in one block of one round.
     *
     * @param irqs the host's interrupts during the measured part, or null where they cannot be read
     */
    record Trial(int round, int block, String variant, String floor, double p50Nanos, long samples,
                 boolean oversubscribed, HostInterrupts.Counts irqs) {
        /** A trial that is its round's only block: it pairs with its reference's of the same round. */
        Trial(final int round, final String variant, final String floor, final double p50Nanos, final long samples,
              final boolean oversubscribed) {
            this(round, round, variant, floor, p50Nanos, samples, oversubscribed, null);
        }
    }

    /**
     * A variant's host interrupts per round trip, by kind ({@link HostInterrupts#KINDS}), over its rounds.
     *
     * @param perOp the median over rounds of (count - the round's idle count) / round trips, by kind
     */
    record HostCost(String variant, double[] perOp, int rounds) {
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

        /** {@return true if, against a floor, the whole interval lies below 1: a lower bound that bounds nothing} */
        boolean brokenFloor() {
            return high < 1;
        }
    }

    private Trials() {
    }

    /**
     * Runs {@code rounds} counted rounds (plus one warm-up round) of the variants and their floors.
     *
     * @param variants round-trip variant names ({@link RoundTrip#variants()}); their floors are added
     * @param peers for a variant, the other variants it is compared with (the host's own IPI, say),
     *              run in its blocks beside it and its floor
     * @param progress told of every counted trial as it ends
     * @return the counted trials, in the order they ran
     */
    static List<Trial> run(final List<String> variants, final Map<String, List<String>> peers, final Duration warmUp,
                           final Duration trial, final int rounds, final long seed, final Consumer<Trial> progress) {
        final Map<String, String> floors = new LinkedHashMap<>();
        final Set<String> all = new LinkedHashSet<>();
        for (final String v : variants) {
            final String floor = RoundTripPart.floorOf(v);
            floors.put(v, floor);
            all.add(v);
            if (floor != null) {
                all.add(floor);
                floors.putIfAbsent(floor, null);
            }
        }
        final Map<String, List<String>> references = new LinkedHashMap<>();
        for (final String v : all) {
            final List<String> refs = new ArrayList<>();
            if (floors.get(v) != null) {
                refs.add(floors.get(v));
            }
            refs.addAll(peers.getOrDefault(v, List.of()));
            references.put(v, refs);
        }
        final List<Trial> trials = new ArrayList<>();
        // Round 0 warms the JIT for every variant alike and is not counted.
        for (final Schedule.Slot slot : Schedule.blocks(new ArrayList<>(all), references, rounds + 1, List.of(IDLE),
            new Random(seed))) {
            final String v = slot.variant();
            final Trial t = v.equals(IDLE) ? idle(slot.round(), slot.block(), trial)
                : once(slot.round(), slot.block(), v, floors.get(v), warmUp, trial);
            if (slot.round() > 0) {
                trials.add(t);
                progress.accept(t);
            }
        }
        return trials;
    }

    /** The bare pending-bit protocol ({@link RoundTrip#protocolVariants()}), a peer of ipi4j's IPIs where it runs. */
    static final String PROTOCOL_FLOOR = "floor-irr";
    /** The bare protocol of a waited call ({@link RoundTrip#protocolVariants()}), a peer of ipi4j's calls where it runs. */
    static final String CALL_PROTOCOL_FLOOR = "floor-call";

    /**
     * The peers of {@code run}'s variants, as {@code lab trials} compares them: every ipi4j IPI
     * or call ({@code ipi-}, {@code call-}) beside {@code host-ipi}, every {@code shootdown-} beside
     * {@code host-shootdown}, every IPI to a spinning core beside {@value #PROTOCOL_FLOOR} and
     * every call to one beside {@value #CALL_PROTOCOL_FLOOR} (not those to a parked core, whose
     * wake-up the protocol floors do not have, nor a periodic poller, which a poll period
     * bounds), where those run.
     */
    static Map<String, List<String>> peers(final List<String> run) {
        final Map<String, List<String>> peers = new LinkedHashMap<>();
        for (final String v : run) {
            final List<String> p = new ArrayList<>();
            if ((v.startsWith("ipi-") || v.startsWith("call-")) && run.contains("host-ipi")) {
                p.add("host-ipi");
            } else if (v.startsWith("shootdown-") && run.contains("host-shootdown")) {
                p.add("host-shootdown");
            }
            if (v.startsWith("ipi-") && !v.startsWith("ipi-poll") && RoundTrip.floorOf(v) == RoundTrip.Floor.SPIN
                && run.contains(PROTOCOL_FLOOR)) {
                p.add(PROTOCOL_FLOOR);
            }
            if (v.startsWith("call-") && RoundTrip.floorOf(v) == RoundTrip.Floor.SPIN && run.contains(CALL_PROTOCOL_FLOOR)) {
                p.add(CALL_PROTOCOL_FLOOR);
            }
            if (!p.isEmpty()) {
                peers.put(v, List.copyOf(p));
            }
        }
        return peers;
    }

    /**
     * Every variant of {@code peers} that has {@code peer} among its peers, against it, as
     * {@link #compareWith} compares, by exact name (not by prefix: {@code ipi-park} is one of
     * {@code ipi-park-pinned}).
     */
    static List<Comparison> compareWithPeer(final List<Trial> trials, final Map<String, List<String>> peers,
                                            final String peer, final long seed) {
        return compareWith(trials, peer, seed, v -> peers.getOrDefault(v, List.of()).contains(peer));
    }

    private static Trial once(final int round, final int block, final String variant, final String floor,
                              final Duration warmUp, final Duration trial) {
        try (RoundTrip rt = RoundTrip.create(variant)) {
            final boolean oversubscribed = 1 + rt.responderThreads().size() > Machine.hostCpus();
            long until = System.nanoTime() + warmUp.toNanos();
            while (System.nanoTime() < until) {
                rt.roundTrip();
            }
            final Histogram h = new Histogram(3);
            final HostInterrupts.Counts before = HostInterrupts.read().orElse(null);
            until = System.nanoTime() + trial.toNanos();
            long now = System.nanoTime();
            while (now < until) {
                rt.roundTrip();
                final long end = System.nanoTime();
                h.recordValue(end - now);
                now = end;
            }
            return new Trial(round, block, variant, floor, h.getValueAtPercentile(50), h.getTotalCount(), oversubscribed,
                since(before));
        }
    }

    /** The round's baseline: the host's interrupts while the lab rests for a trial's time. */
    private static Trial idle(final int round, final int block, final Duration trial) {
        final HostInterrupts.Counts before = HostInterrupts.read().orElse(null);
        final long until = System.nanoTime() + trial.toNanos();
        for (long left = trial.toNanos(); left > 0; left = until - System.nanoTime()) {
            java.util.concurrent.locks.LockSupport.parkNanos(left); // resting is what is measured
        }
        return new Trial(round, block, IDLE, null, 0, 0, false, since(before));
    }

    private static HostInterrupts.Counts since(final HostInterrupts.Counts before) {
        if (before == null) {
            return null;
        }
        return HostInterrupts.read().map(after -> after.minus(before)).orElse(null);
    }

    /**
     * Host interrupts per round trip of every variant and floor, less each round's idle baseline.
     *
     * @return one entry per variant measured with counts, in the order they first ran; empty where
     *         the host's counts were unavailable
     */
    static List<HostCost> hostCosts(final List<Trial> trials) {
        final Map<Integer, HostInterrupts.Counts> idle = new LinkedHashMap<>();
        final Map<String, List<Trial>> byVariant = new LinkedHashMap<>();
        for (final Trial t : trials) {
            if (t.irqs() == null) {
                continue;
            }
            if (t.variant().equals(IDLE)) {
                idle.put(t.round(), t.irqs());
            } else if (t.samples() > 0) {
                byVariant.computeIfAbsent(t.variant(), k -> new ArrayList<>()).add(t);
            }
        }
        final List<HostCost> out = new ArrayList<>();
        for (final Map.Entry<String, List<Trial>> e : byVariant.entrySet()) {
            final List<double[]> rows = new ArrayList<>();
            for (final Trial t : e.getValue()) {
                final HostInterrupts.Counts base = idle.get(t.round());
                if (base != null) {
                    final HostInterrupts.Counts d = t.irqs().minus(base);
                    final double[] row = new double[HostInterrupts.KINDS.length];
                    for (int k = 0; k < row.length; k++) {
                        row[k] = (double) d.get(k) / t.samples();
                    }
                    rows.add(row);
                }
            }
            if (rows.isEmpty()) {
                continue;
            }
            final double[] perOp = new double[HostInterrupts.KINDS.length];
            for (int k = 0; k < perOp.length; k++) {
                final double[] column = new double[rows.size()];
                for (int r = 0; r < column.length; r++) {
                    column[r] = rows.get(r)[k];
                }
                perOp[k] = median(column);
            }
            out.add(new HostCost(e.getKey(), perOp, rows.size()));
        }
        return out;
    }

    /** The host interrupts per round trip as a Markdown table, or the sentence saying they were unavailable. */
    static String hostTable(final List<HostCost> costs) {
        if (costs.isEmpty()) {
            return "Host interrupts: unavailable (no readable /proc/interrupts on this host).\n";
        }
        final StringBuilder b = new StringBuilder("Host interrupts per round trip (from /proc/interrupts, all CPUs; "
            + "median over trials of (count - the same round's idle count) / round trips; RES = reschedule IPIs, "
            + "CAL = function-call IPIs, TLB = shootdowns, LOC = local timer):\n\n");
        b.append("| variant |");
        for (final String k : HostInterrupts.KINDS) {
            b.append(' ').append(k).append("/op |");
        }
        b.append(" trials |\n|---|");
        b.append("---:|".repeat(HostInterrupts.KINDS.length)).append("---:|\n");
        for (final HostCost c : costs) {
            b.append("| ").append(c.variant()).append(" |");
            for (final double v : c.perOp()) {
                b.append(String.format(" %.3f |", Math.abs(v) < 0.0005 ? 0.0 : v)); // no "-0.000" from noise
            }
            b.append(' ').append(c.rounds()).append(" |\n");
        }
        return b.toString();
    }

    /** Every variant that has a floor, against it, round by round. */
    static List<Comparison> compare(final List<Trial> trials, final long seed) {
        final Map<String, Map<Integer, Trial>> byVariant = byVariant(trials);
        final List<Comparison> out = new ArrayList<>();
        final Random random = new Random(seed);
        for (final Map.Entry<String, Map<Integer, Trial>> e : byVariant.entrySet()) {
            final Trial any = e.getValue().values().iterator().next();
            final Map<Integer, Trial> floor = any.floor() == null ? null : byVariant.get(any.floor());
            if (floor != null) {
                out.add(comparison(e.getKey(), e.getValue(), any.floor(), floor, random));
            }
        }
        return out;
    }

    /**
     * Every variant whose name starts with one of {@code prefixes} against {@code peer}, round by
     * block, as against a floor: the emulation beside the host's own mechanism, in the same blocks.
     *
     * @return empty if {@code peer} did not run
     */
    static List<Comparison> compareWith(final List<Trial> trials, final String peer, final long seed,
                                        final String... prefixes) {
        return compareWith(trials, peer, seed, v -> java.util.Arrays.stream(prefixes).anyMatch(v::startsWith));
    }

    /** Every variant that {@code compared} names against {@code peer}, block by block; empty if {@code peer} did not run. */
    private static List<Comparison> compareWith(final List<Trial> trials, final String peer, final long seed,
                                                final java.util.function.Predicate<String> compared) {
        final Map<String, Map<Integer, Trial>> byVariant = byVariant(trials);
        final Map<Integer, Trial> reference = byVariant.get(peer);
        final List<Comparison> out = new ArrayList<>();
        if (reference == null) {
            return out;
        }
        final Random random = new Random(seed);
        for (final Map.Entry<String, Map<Integer, Trial>> e : byVariant.entrySet()) {
            if (compared.test(e.getKey())) {
                out.add(comparison(e.getKey(), e.getValue(), peer, reference, random));
            }
        }
        return out;
    }

    private static Map<String, Map<Integer, Trial>> byVariant(final List<Trial> trials) {
        final Map<String, Map<Integer, Trial>> byVariant = new LinkedHashMap<>();
        for (final Trial t : trials) {
            if (!t.variant().equals(IDLE)) {
                byVariant.computeIfAbsent(t.variant(), k -> new LinkedHashMap<>()).put(t.block(), t);
            }
        }
        return byVariant;
    }

    /** {@code variant} against {@code reference} over the rounds both ran: per-round ratios, their median and bootstrap interval. */
    private static Comparison comparison(final String variant, final Map<Integer, Trial> rounds, final String refName,
                                         final Map<Integer, Trial> reference, final Random random) {
        final List<Double> ratios = new ArrayList<>();
        final List<Double> p50 = new ArrayList<>();
        final List<Double> refP50 = new ArrayList<>();
        boolean oversubscribed = false;
        for (final Trial t : rounds.values()) {
            final Trial f = reference.get(t.block()); // the reference's trial run beside this one
            if (f != null) {
                ratios.add(t.p50Nanos() / f.p50Nanos());
                p50.add(t.p50Nanos());
                refP50.add(f.p50Nanos());
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
        final double[] f = unbox(refP50);
        double min = Double.MAX_VALUE;
        double max = 0;
        for (final double x : f) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        return new Comparison(variant, refName, median(unbox(p50)), median(f), median(r),
            new Percentile().evaluate(boot, 2.5), new Percentile().evaluate(boot, 97.5), r.length, max / min,
            oversubscribed);
    }

    /** The comparisons with their floors as a Markdown table, with what a reader needs to trust it. */
    static String table(final List<Comparison> comparisons, final int rounds, final Duration trial) {
        return table(comparisons, rounds, trial, true);
    }

    /**
     * The comparisons as a Markdown table. Against floors ({@code floors} true), a variant whose
     * whole interval lies below 1 is marked BROKEN FLOOR: a floor is a lower bound, and one that a
     * variant beats beyond its interval bounds nothing. Against a peer, a ratio below 1 is a result.
     */
    static String table(final List<Comparison> comparisons, final int rounds, final Duration trial, final boolean floors) {
        final StringBuilder b = new StringBuilder();
        b.append("Interleaved trials: ").append(rounds).append(" rounds of ").append(trial.toMillis())
            .append(" ms per trial, a block per variant (the variant beside its floor, back to back) in random order per "
                + "round; ratio = median over blocks of p50(variant) / p50(floor) in the same block, [95% bootstrap CI].\n\n");
        b.append("| variant | floor | p50 ns (median of rounds) | floor p50 ns | ratio | 95% CI | floor drift |\n");
        b.append("|---|---|---:|---:|---:|---|---:|\n");
        for (final Comparison c : comparisons) {
            final String[] ratio = ratio(c.ratio(), c.low(), c.high()).split(" ", 2);
            b.append(String.format("| %s%s | %s | %.0f | %.0f | %s%s | %s | %.2fx%s |%n", c.variant(),
                c.oversubscribed() ? " (oversubscribed)" : "", c.floor(), c.p50Nanos(), c.floorP50Nanos(),
                floors && c.brokenFloor() ? "BROKEN FLOOR " : "", ratio[0], ratio[1], c.floorDrift(),
                c.drifting() ? " DRIFTING" : ""));
        }
        return b.toString();
    }

    /** {@return a ratio and its 95% interval as every table prints them: {@code 1.23x [1.10-1.40]}} */
    static String ratio(final double ratio, final double low, final double high) {
        return String.format(Locale.ROOT, "%.3gx [%.3g-%.3g]", ratio, low, high);
    }

    private static double[] unbox(final List<Double> values) {
        final double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return a;
    }

    /** {@return the median of {@code values} (commons-math's, the mean of the middle two for an even count)} */
    static double median(final double[] values) {
        return new Percentile().evaluate(values, 50);
    }
}
