package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code lab compare A.json B.json}: two runs side by side (two machines, two commits), each key
 * figure's median in A and B with its [min-max], the ratio B/A, and a verdict: a ratio is flagged
 * only when it differs from 1 by more than the run-to-run spread ((max - min) / median) of either
 * run; with a single repeat there is no spread to judge by, and the report says so.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Compares two lab runs (results.json): B/A ratios of the medians, flagged where they differ by "
        + "more than the run-to-run spread. Prints Markdown, or writes it to --out.")
final class Compare implements Callable<Integer> {
    /**
     * The figures compared for each part. The load curve's are per offered rate
     * ({@link #metricsOf}); the floors and the matrix keep no repeats to compare (their
     * per-block ratios are in the report).
     */
    static final Map<String, List<String>> KEY_METRICS = Map.of(
        "roundtrip", List.of("paced_p50_ns", "paced_p99_ns", "b2b_p50_ns", "cpu_paced_ns"),
        "smp", List.of("call_p50_ns", "call_p99_ns"),
        "shootdown", List.of("revoke_p50_ns", "window_p50_ns"),
        "storm", List.of("pages_per_s", "call_ipis"),
        "virt", List.of("op_p50_ns", "op_p99_ns"),
        "calibration", List.of("send_ns", "unpark_ns", "latency_same_complex_ns", "wake_ns", "interrupt_ns", "spin_ns",
            "context_switch_ns"));
    /** Per offered rate, the load curve's figures compared: its latency's median and its throughput ({@link LoadPart#key}). */
    private static final java.util.regex.Pattern LOAD_KEY =
        java.util.regex.Pattern.compile("at(\\d{1,18})_(lat_p50_ns|done_per_s)");

    /** {@return the metrics of {@code r} that {@code lab compare} compares, in a stable order} */
    static List<String> metricsOf(final Result r) {
        if (!r.part().equals("load")) {
            return KEY_METRICS.getOrDefault(r.part(), List.of());
        }
        final List<String> out = new ArrayList<>();
        for (final Map<String, Double> repeat : r.repeats()) {
            for (final String k : repeat.keySet()) {
                if (LOAD_KEY.matcher(k).matches() && !out.contains(k)) {
                    out.add(k); // any other key (a file written by hand, a later lab's) is not compared
                }
            }
        }
        // By offered rate (the key's number), then latency before throughput.
        out.sort(java.util.Comparator.comparingLong((String k) -> {
            final java.util.regex.Matcher m = LOAD_KEY.matcher(k);
            return m.matches() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
        }).thenComparing(k -> k.endsWith("_ns") ? 0 : 1));
        return out;
    }

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A.json", description = "The baseline run.")
    private Path a;

    @Parameters(index = "1", paramLabel = "B.json", description = "The run compared with it.")
    private Path b;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the comparison here instead of printing it.")
    private Path out;

    @Override
    public Integer call() throws IOException {
        final String md = compare(read(a), read(b), a.toString(), b.toString());
        if (out != null) {
            Files.writeString(out, md, StandardCharsets.UTF_8);
            spec.commandLine().getOut().println("[lab compare] " + out);
        } else {
            final PrintWriter w = spec.commandLine().getOut();
            w.print(md);
            w.flush();
        }
        return 0;
    }

    /** A parsed results file. */
    record Run(Map<String, Object> context, List<Result> results) {
    }

    @SuppressWarnings("unchecked")
    static Run read(final Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("no results file " + file);
        }
        final Object parsed = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        if (!(parsed instanceof Map<?, ?> m) || !"ipi4j-lab/1".equals(m.get("format"))) {
            throw new IOException(file + " is not an ipi4j lab results file (format ipi4j-lab/1)");
        }
        final List<Result> results = new ArrayList<>();
        for (final Object r : (List<Object>) m.get("results")) {
            results.add(Result.fromMap((Map<String, Object>) r));
        }
        return new Run((Map<String, Object>) m.get("context"), results);
    }

    static String compare(final Run ra, final Run rb, final String nameA, final String nameB) {
        final StringBuilder md = new StringBuilder("# ipi4j lab: comparison\n\nA = `").append(nameA).append("`, B = `")
            .append(nameB).append("`\n\n");
        final Table ctx = new Table("context", "A", "B");
        final Set<String> keys = new LinkedHashSet<>(ra.context().keySet());
        keys.addAll(rb.context().keySet());
        for (final String k : keys) {
            ctx.row(k, String.valueOf(ra.context().get(k)), String.valueOf(rb.context().get(k)));
        }
        md.append(ctx.markdown()).append('\n');
        md.append("A ratio is flagged when it differs from 1 by more than the larger run-to-run spread, (max - min) / "
            + "median across repeats, of A and B.\n\n");
        final Table t = new Table("figure", "metric", "A median [min-max]", "B median [min-max]", "B/A", "verdict");
        final Map<String, Result> inB = new LinkedHashMap<>();
        rb.results().forEach(r -> inB.put(r.name(), r));
        final List<String> onlyA = new ArrayList<>();
        int flagged = 0;
        for (final Result x : ra.results()) {
            final Result y = inB.remove(x.name());
            if (y == null || x.error() != null || y.error() != null) {
                if (y == null) {
                    onlyA.add(x.name());
                }
                continue;
            }
            for (final String metric : metricsOf(x)) {
                final double ma = x.median(metric);
                final double mb = y.median(metric);
                if (Double.isNaN(ma) || Double.isNaN(mb)) {
                    continue;
                }
                final double ratio = ma == 0 ? Double.NaN : mb / ma;
                final String verdict;
                if (x.repeats().size() < 2 || y.repeats().size() < 2) {
                    verdict = "one repeat: no spread to judge by";
                } else {
                    final double spread = Math.max(x.spread(metric), y.spread(metric));
                    if (Math.abs(ratio - 1) > spread) {
                        verdict = String.format(Locale.ROOT, "**differs** (spread %.0f%%)", spread * 100);
                        flagged++;
                    } else {
                        verdict = String.format(Locale.ROOT, "within spread (%.0f%%)", spread * 100);
                    }
                }
                t.row(x.name(), metric, value(x, metric), value(y, metric),
                    Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2f", ratio), verdict);
            }
        }
        md.append(t.markdown()).append('\n');
        md.append(flagged).append(" figure(s) differ by more than their spread.\n");
        if (!onlyA.isEmpty()) {
            md.append("\nOnly in A: ").append(String.join(", ", onlyA)).append('\n');
        }
        if (!inB.isEmpty()) {
            md.append("\nOnly in B: ").append(String.join(", ", inB.keySet())).append('\n');
        }
        return md.toString();
    }

    private static String value(final Result r, final String metric) {
        final boolean time = metric.endsWith("_ns");
        final java.util.function.DoubleFunction<String> f = time ? Report::us
            : v -> String.format(Locale.ROOT, "%.0f", v);
        return f.apply(r.median(metric)) + " [" + f.apply(r.min(metric)) + "-" + f.apply(r.max(metric)) + "]";
    }
}
