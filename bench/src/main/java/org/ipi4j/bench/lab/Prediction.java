package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.bench.SpaceRig;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.mm.Pte;
import org.ipi4j.sim.CostModel;
import org.ipi4j.smp.Broadcast;

/**
 * How well the simulation predicts this host: every figure the host can also run for real
 * (onEachCore in every fixed shape, the one-page shootdown, the unmap storm page by page and
 * batched) at 2, 4 and 8 cores, simulated under a calibrated {@link CostModel} and measured on the
 * host's real cores the same way (from core 0, idle cores parked), with {@code real / simulated}
 * per figure and, per core count, the median of {@code |real / simulated - 1|} against the
 * target ({@link #target}). Core counts beyond the host's CPUs are oversubscribed for real, and
 * the model says so with its {@code hostCpus} and {@code contextSwitch}.
 */
final class Prediction {
    /** The core counts predicted. */
    static final List<Integer> CORES = List.of(2, 4, 8);

    private Prediction() {
    }

    /** {@return the figures predicted at each core count} */
    static List<String> figures() {
        final List<String> f = new ArrayList<>();
        // The fixed shapes only: auto asks the machine's model, which on the real machine is not the simulation's.
        SimPart.SHAPES.stream().filter(b -> b.kind() != Broadcast.Kind.AUTO).forEach(b -> f.add("onEachCore " + b));
        f.add("shootdown flat");
        f.add("storm page by page");
        f.add("storm batched");
        return f;
    }

    /** {@return the target for the median error at {@code cores}: 25% at 2 cores, 50% beyond} */
    static double target(final int cores) {
        return cores <= 2 ? 0.25 : 0.50;
    }

    /** {@return |real / simulated - 1|: 0 for a perfect prediction, 1 for one off by all of the simulated figure or by half} */
    static double error(final double real, final double simulated) {
        return Math.abs(real / simulated - 1);
    }

    /** {@return per core count, the median error over its figures (results without an error field skipped)} */
    static Map<Integer, Double> medianErrors(final List<Result> predictions) {
        final Map<Integer, List<Double>> by = new TreeMap<>();
        for (final Result r : predictions) {
            if (r.error() == null && r.info().get("cores") instanceof Number n) {
                by.computeIfAbsent(n.intValue(), k -> new ArrayList<>()).add(error(r.median("real_p50_ns"),
                    r.median("sim_ns")));
            }
        }
        final Map<Integer, Double> out = new TreeMap<>();
        by.forEach((n, errors) -> out.put(n, Calibration.median(errors.stream().mapToDouble(Double::doubleValue)
            .toArray())));
        return out;
    }

    /**
     * The prediction's steps, as interleaved rounds: every round measures each figure at each core
     * count once for real, in a fresh random order (so a speed regime of the host falls on every
     * figure alike), and adds it as a repeat of that figure's result; the first round also
     * simulates the figure under {@code model}, read then (a calibration earlier in the run sets it).
     */
    static List<LabRun.Step> steps(final Settings s, final Supplier<CostModel> model) {
        final Map<String, Result> results = new HashMap<>();
        final List<String[]> all = new ArrayList<>();
        CORES.forEach(n -> figures().forEach(f -> all.add(new String[] {String.valueOf(n), f})));
        final Random random = new Random(s.seed());
        final List<LabRun.Step> steps = new ArrayList<>();
        for (int round = 1; round <= s.repeat(); round++) {
            final List<String[]> order = new ArrayList<>(all);
            Collections.shuffle(order, random);
            for (final String[] nf : order) {
                final int n = Integer.parseInt(nf[0]);
                final String figure = nf[1];
                steps.add(new LabRun.Step(n + " cores, simulated and real: " + figure + " (round " + round + "/"
                    + s.repeat() + ")", () -> {
                        Result r = results.get(n + " " + figure);
                        if (r == null) {
                            r = simulated(figure, n, model.get(), s);
                            results.put(n + " " + figure, r);
                        }
                        r.addRepeat(real(figure, n, s, ((Number) r.info().get("simulated_ns")).doubleValue()));
                        return r;
                    }));
            }
        }
        return steps;
    }

    /** A result for the figure on {@code n} cores, with no repeat yet and its simulated time in its info. */
    static Result simulated(final String figure, final int n, final CostModel model, final Settings s) throws Exception {
        final Result r = new Result("sim-predict", n + " cores: " + figure, "real vs simulated", null);
        r.info().put("figure", figure);
        r.info().put("cores", n);
        r.info().put("oversubscribed", n > Machine.hostCpus());
        r.info().put("cost model", model.toString());
        final double simulated;
        if (figure.startsWith("onEachCore ")) {
            simulated = SimPart.calls(n, shape(figure), s, model).median("virtual_ns");
        } else if (figure.equals("shootdown flat")) {
            simulated = SimPart.shootdown(n, Broadcast.flat(), s, model).median("virtual_ns");
        } else {
            simulated = SimPart.storm(n, figure.endsWith("batched"), s, model).median("virtual_ns");
        }
        r.info().put("simulated_ns", simulated);
        return r;
    }

    /** One real repeat of the figure: its median over many runs, beside the simulated figure. */
    private static Map<String, Double> real(final String figure, final int n, final Settings s, final double simulated)
            throws Exception {
        final int count = figure.startsWith("storm") ? (s.smoke() ? 5 : 40) : s.smoke() ? 50 : 1000;
        final double real = real(figure, n, count);
        final Map<String, Double> m = new LinkedHashMap<>();
        m.put("sim_ns", simulated);
        m.put("real_p50_ns", real);
        m.put("real_over_sim", real / simulated);
        m.put("samples", (double) count);
        return m;
    }

    private static Broadcast shape(final String figure) {
        final String name = figure.substring("onEachCore ".length());
        return SimPart.SHAPES.stream().filter(b -> b.toString().equals(name)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no shape " + name));
    }

    /** The median on the host of {@code count} runs of the figure on core 0 of a real {@code n}-core machine. */
    private static double real(final String figure, final int n, final int count) throws Exception {
        final Broadcast shape = figure.startsWith("onEachCore ") ? shape(figure) : Broadcast.flat();
        // Idle cores park, as simulated; placed on the host's CPUs in turn, as the model's hostCpus says.
        try (SpaceRig rig = new SpaceRig("lab-predict", n, shape, new RoundRobinPinner(), 0, Paravirt.values())) {
            final CpuSet all = CpuSet.firstN(n);
            return rig.machine.core(0).submit(() -> {
                final long[] t = new long[count];
                for (int i = -count / 5; i < count; i++) { // the first fifth warms up
                    final long t0 = System.nanoTime();
                    if (figure.startsWith("onEachCore ")) {
                        rig.smp.run(all, null, cpu -> { }, shape);
                    } else if (figure.equals("shootdown flat")) {
                        rig.as.protect(0, 1, Pte.READ);
                    } else if (figure.endsWith("batched")) {
                        rig.revokeAllBatched();
                    } else {
                        rig.revokeAllPerPage();
                    }
                    final long dt = System.nanoTime() - t0;
                    rig.restore(); // adding rights: no shootdown
                    if (i >= 0) {
                        t[i] = dt;
                    }
                }
                Arrays.sort(t);
                return (double) t[count / 2];
            }).get();
        }
    }

    /** The report's table: a row per figure and core count, then the median error per core count against its target. */
    static Table table(final List<Result> predictions) {
        final Table t = new Table("cores", "figure", "real p50", "simulated", "real / simulated", "|real / simulated - 1|",
            "real samples");
        final List<String> figures = figures();
        final List<Result> ok = predictions.stream().filter(r -> r.error() == null)
            .sorted(Comparator.comparingInt((Result r) -> ((Number) r.info().get("cores")).intValue())
                .thenComparingInt(r -> figures.indexOf(String.valueOf(r.info().get("figure"))))).toList();
        for (final Result r : ok) {
            final double real = r.median("real_p50_ns");
            final double sim = r.median("sim_ns");
            t.row(String.valueOf(r.info().get("cores")) + (Boolean.TRUE.equals(r.info().get("oversubscribed"))
                ? " (oversubscribed)" : ""), String.valueOf(r.info().get("figure")), Report.us(real),
                Report.us(sim), String.format(Locale.ROOT, "%.2f", real / sim),
                String.format(Locale.ROOT, "%.0f%%", 100 * error(real, sim)), Report.count(r, "samples"));
        }
        medianErrors(ok).forEach((n, e) -> t.row(String.valueOf(n), "median over the figures", "", "", "",
            String.format(Locale.ROOT, "%.0f%% (target %.0f%%: %s)", 100 * e, 100 * target(n), e <= target(n) ? "met"
                : "MISSED"), ""));
        return t;
    }
}
