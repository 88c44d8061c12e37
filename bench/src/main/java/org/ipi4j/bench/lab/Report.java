package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The lab's report, built from results alone (no measuring here): the context, then one table per
 * part, each figure with its median across repeats, its [min-max] when repeated, its samples, and
 * its ratio to the floor measured in the same run. Rendered as Markdown, HTML (with the charts of
 * {@link Html}, which draws them with ECharts), CSV and JSON.
 */
final class Report {
    static final String METHOD = "Every round trip: the caller publishes a request and spin-waits for the "
        + "acknowledgement, the same in every variant, so differences are the receiving side's. *Back-to-back* (b2b) "
        + "sends the next request at once; *paced* sends one per nominal pace on an absolute schedule that never slips, "
        + "and its latency is taken from each request's intended send time (the correction of coordinated omission wrk2 "
        + "makes: a stall delays every request scheduled behind it, and that delay is counted; a late caller sends at once "
        + "and catches up in a burst; the caller spins the last 200 us before a send, since a park oversleeps and a late "
        + "generator would charge its own lateness to the responder). A responder that polls burns CPU in the gaps, which *CPU/msg* charges: the "
        + "responder threads' CPU time divided by messages. *Achieved pace* is the time from the first intended send to "
        + "the last real one, per interval (a burst that catches up does not make it faster than the nominal pace), "
        + "marked OFF PACE where it misses the nominal one by more than 10%; *late* is the share of paced requests whose "
        + "send time had passed when the caller got to them. "
        + "Round trips run as interleaved trials: rounds (--rounds) that each run one block per variant, in a fresh "
        + "random order, and a block is the variant and its floor back to back in random order, so the host's speed "
        + "regimes (they last a second to minutes) fall on a variant and its floor alike; a round trip's ratio is the "
        + "median over blocks of its figure over its floor's in the same block (a floor runs once per variant it bounds). "
        + "Each figure is the median across repeats, with [min-max] when repeated; the other parts' ratios compare a "
        + "median with the median of its floor in this same run: raw volatile spin ping-pong for polling variants, raw LockSupport "
        + "park/unpark ping-pong for signalling ones and for the machine-level parts. A variant that beats its floor "
        + "beyond their spread (or in a single repeat) is marked BROKEN FLOOR instead of given a ratio: the floor did "
        + "not bound it. A percentile is printed only where at least 1,000 samples lie beyond it (p50 from 2,000 "
        + "samples, p99 from 100,000, p99.9 from a million); \"-\" marks one with fewer.";

    /** Headings of the floors and matrix sections (the HTML page draws the ratios and the heat map after them). */
    static final String FLOORS = "Floors: ipi4j's emulated IPI and one-page shootdown beside the host's real ones "
        + "(interleaved trials)";
    static final String MATRIX = "Host core-to-core latency, one way";
    static final String IMPLIED = "What the core-to-core matrix implies";

    /** Headings of the simulated latency tables (the HTML page draws a chart after each). */
    static final String LOAD = "Load curve: throughput and latency against offered load (open loop, outside callers, "
        + "one responder that spins; the executor's parks)";
    static final String SIM_CALLS = "Simulated: onEachCore from core 0, virtual time, against cores (seeded, "
        + "deterministic; the cost model is in each result)";
    static final String SIM_SHOOTDOWNS = "Simulated: one-page shootdown from core 0, virtual time, against cores";

    private final Context context;
    private final List<Result> results;
    private final List<String> failures;
    private final String footer;

    Report(final Context context, final List<Result> results, final List<String> failures, final String footer) {
        this.context = context;
        this.results = List.copyOf(results);
        this.failures = List.copyOf(failures);
        this.footer = footer;
    }

    // ---- the tables -------------------------------------------------------------------------

    Table contextTable() {
        final Table t = new Table("context", "").leftAligned();
        context.values().forEach((k, v) -> t.row(k, v instanceof Map<?, ?> m ? flat(m) : String.valueOf(v)));
        return t;
    }

    Table roundTrips() {
        final Table t = new Table("variant", "family", "pinned", "oversubscribed", "b2b p50", "b2b p99", "paced p50",
            "paced p99", "paced p99.9", "paced p50 vs floor", "CPU/msg paced", "CPU/msg b2b", "achieved pace",
            "samples b2b / paced");
        for (final Result r : part("roundtrip")) {
            if (r.error() != null) {
                continue;
            }
            final Object pinned = r.info().get("pinned host CPU");
            t.row(r.name(), r.family(), pinned instanceof Number n && n.intValue() >= 0 ? "cpu " + n.intValue() : "no",
                yesNo(r.info().get("oversubscribed")), time(r, "b2b_p50_ns"), time(r, "b2b_p99_ns"),
                time(r, "paced_p50_ns"), time(r, "paced_p99_ns"), time(r, "paced_p999_ns"),
                vsFloor(r, "paced_p50_ns", "paced_p50_ns"), time(r, "cpu_paced_ns"), time(r, "cpu_b2b_ns"),
                pace(r), count(r, "samples_b2b") + " / " + count(r, "samples_paced"));
        }
        return t;
    }

    /** The achieved pace, marked where it misses the nominal one by more than 10%, with the late share. */
    static String pace(final Result r) {
        final double achieved = r.median("pace_achieved_ns");
        final double nominal = r.median("pace_nominal_ns");
        final String late = Double.isNaN(r.median("paced_late")) ? ""
            : String.format(Locale.ROOT, ", %.0f%% late", 100 * r.median("paced_late"));
        if (Double.isNaN(achieved) || Double.isNaN(nominal) || nominal <= 0) {
            return time(r, "pace_achieved_ns");
        }
        final boolean off = Math.abs(achieved / nominal - 1) > 0.10;
        return time(r, "pace_achieved_ns") + (off ? " OFF PACE (nominal " + us(nominal) + ")" : "") + late;
    }

    Table calls() {
        final Table t = new Table("cores", "oversubscribed", "broadcast", "rounds", "p50", "p99", "p99.9",
            "p50 vs park floor", "samples");
        for (final Result r : part("smp")) {
            if (r.error() == null) {
                t.row(String.valueOf(r.info().get("cores")), yesNo(r.info().get("oversubscribed")),
                    String.valueOf(r.info().get("shape")), String.valueOf(r.info().get("rounds")), time(r, "call_p50_ns"),
                    time(r, "call_p99_ns"), time(r, "call_p999_ns"), vsFloor(r, "call_p50_ns", "paced_p50_ns"),
                    count(r, "samples"));
            }
        }
        return t;
    }

    Table shootdowns() {
        final Table t = new Table("cores", "oversubscribed", "revoke p50", "p99", "p99.9", "p50 vs park floor",
            "window p50", "window p99", "delivery p50", "irq-off delay p99", "handler p50", "storm cost",
            "stale after return", "samples");
        for (final Result r : part("shootdown")) {
            if (r.error() == null) {
                t.row(String.valueOf(r.info().get("cores")), yesNo(r.info().get("oversubscribed")),
                    time(r, "revoke_p50_ns"), time(r, "revoke_p99_ns"), time(r, "revoke_p999_ns"),
                    vsFloor(r, "revoke_p50_ns", "paced_p50_ns"), time(r, "window_p50_ns"), time(r, "window_p99_ns"),
                    time(r, "delivery_p50_ns"), time(r, "irqoff_delay_p99_ns"), time(r, "handler_p50_ns"),
                    plain(r, "storm_cost", "%.3f"), plain(r, "stale_after_return", "%.0f"), count(r, "samples"));
            }
        }
        return t;
    }

    Table storms() {
        final Table t = new Table("strategy", "cores", "oversubscribed", "shootdowns", "call IPIs", "pages/s",
            "full flushes on targets", "storms");
        for (final Result r : part("storm")) {
            if (r.error() == null) {
                t.row(r.name(), String.valueOf(r.info().get("cores")), yesNo(r.info().get("oversubscribed")),
                    plain(r, "shootdowns", "%.0f"), plain(r, "call_ipis", "%.0f"), plain(r, "pages_per_s", "%.0f"),
                    plain(r, "full_flushes", "%.0f"), count(r, "storms"));
            }
        }
        return t;
    }

    Table virt() {
        final Table t = new Table("figure", "p50", "p99", "p50 vs park floor", "per operation", "stale after return",
            "samples");
        for (final Result r : part("virt")) {
            if (r.error() != null) {
                continue;
            }
            final StringBuilder per = new StringBuilder();
            for (final String metric : r.repeats().get(0).keySet()) {
                if (metric.startsWith("op_") || metric.equals("samples") || metric.equals("stale_after_return")) {
                    continue;
                }
                per.append(per.length() == 0 ? "" : "; ").append(metric.replace("_ns", "").replace('_', ' ')).append(' ')
                    .append(metric.endsWith("_ns") ? time(r, metric) : plain(r, metric, "%.2f"));
            }
            t.row(r.name(), time(r, "op_p50_ns"), time(r, "op_p99_ns"),
                r.floor() == null ? "" : vsFloor(r, "op_p50_ns", "paced_p50_ns"), per.toString(),
                r.repeats().get(0).containsKey("stale_after_return") ? plain(r, "stale_after_return", "%.0f") : "",
                count(r, "samples"));
        }
        return t;
    }

    /** One simulated operation against cores: a row per core count, a column per broadcast shape. */
    Table simulated(final String op) {
        final List<String> header = new ArrayList<>(List.of("cores"));
        SimPart.SHAPES.forEach(b -> header.add(b.toString()));
        header.add("fastest");
        header.add("sends (fastest)");
        final Table t = new Table(header.toArray(String[]::new));
        final Map<Integer, Map<String, Result>> byCores = new java.util.TreeMap<>();
        for (final Result r : part("sim")) {
            if (r.error() == null && op.equals(r.info().get("op"))) {
                byCores.computeIfAbsent(((Number) r.info().get("cores")).intValue(), k -> new LinkedHashMap<>())
                    .put(String.valueOf(r.info().get("shape")), r);
            }
        }
        byCores.forEach((n, shapes) -> {
            final List<String> row = new ArrayList<>(List.of(String.valueOf(n)));
            Result best = null;
            for (final var b : SimPart.SHAPES) {
                final Result r = shapes.get(b.toString());
                row.add(r == null ? "" : us(r.median("virtual_ns")));
                if (r != null && (best == null || r.median("virtual_ns") < best.median("virtual_ns"))) {
                    best = r;
                }
            }
            row.add(best == null ? "" : String.valueOf(best.info().get("shape")));
            row.add(best == null ? "" : count(best, "sends"));
            t.row(row.toArray(String[]::new));
        });
        return t;
    }

    Table simulatedStorms() {
        final Table t = new Table("cores", "strategy", "virtual time", "shootdowns", "sends", "full flushes on targets",
            "batched vs page by page");
        for (final Result r : part("sim")) {
            if (r.error() == null && "storm".equals(r.info().get("op"))) {
                final Object n = r.info().get("cores");
                final boolean batched = "batched".equals(r.info().get("shape"));
                String ratio = "";
                if (batched) {
                    final Result other = find("sim storm page by page on " + n + " cores");
                    if (other != null) {
                        ratio = String.format(Locale.ROOT, "%.1fx faster", other.median("virtual_ns")
                            / Math.max(1, r.median("virtual_ns")));
                    }
                }
                t.row(String.valueOf(n), String.valueOf(r.info().get("shape")), us(r.median("virtual_ns")),
                    count(r, "shootdowns"), count(r, "sends"), count(r, "full_flushes"), ratio);
            }
        }
        return t;
    }

    /** The calibrated model's prediction against the host ({@link Prediction}). */
    Table predictions() {
        return Prediction.table(part("sim-predict"));
    }

    /** What this host's calibration measured and the model it implies. */
    Table calibration() {
        final Table t = new Table("calibration", "median").leftAligned();
        for (final Result r : part("calibration")) {
            if (r.error() == null && !r.repeats().isEmpty()) {
                r.repeats().get(0).forEach((k, v) -> t.row(k, String.format(Locale.ROOT, k.endsWith("_ns") ? "%.0f ns" : "%.0f",
                    r.median(k))));
                r.info().forEach((k, v) -> t.row(k, String.valueOf(v)));
            }
        }
        return t;
    }

    // ---- renderings -------------------------------------------------------------------------

    String markdown() {
        final StringBuilder md = new StringBuilder("# ipi4j lab report\n\n");
        md.append(contextTable().markdown()).append('\n').append(METHOD).append("\n\n");
        for (final Map.Entry<String, Table> section : sections().entrySet()) {
            if (!section.getValue().isEmpty()) {
                md.append("## ").append(section.getKey()).append("\n\n").append(section.getValue().markdown()).append('\n');
                final String columns = columns(section.getKey());
                if (columns != null) {
                    md.append(columns).append("\n\n");
                }
            }
        }
        if (!failures.isEmpty()) {
            md.append("## Failed\n\n");
            failures.forEach(f -> md.append("* ").append(f.replace("\n", " ")).append('\n'));
            md.append('\n');
        }
        md.append('_').append(footer).append("_\n");
        return md.toString();
    }

    /**
     * What the columns of a section's table mean, where the heading and {@link #METHOD} do not say
     * it: printed under the table in every rendering, so no column is left to guess.
     */
    static final Map<String, String> COLUMNS = Map.of(
        "floors", FloorsPart.COLUMNS,
        "matrix", MatrixPart.COLUMNS,
        "implied", MatrixPart.IMPLIED_COLUMNS,
        "calls", "*rounds*: IPI hops to the farthest target (1 for flat, up to n for serial, log_k n for a tree). "
            + "*p50 vs park floor*: the call's median against the raw park/unpark round trip of this run.",
        "shootdowns", "*revoke*: the protect call, start to return. *window*: the illegal-access window, from the first "
            + "PTE change to the last target's invalidation. *delivery* (per target): flush request sent to handler "
            + "entry. *irq-off delay* (per target): the part of delivery spent waiting for interrupts to be re-enabled. "
            + "*handler* (per target): time spent invalidating. *storm cost*: stalled core-seconds per second since "
            + "the space was made (targets' handler time plus the initiator's wait). *stale after return*: "
            + "translations served from a revoked entry after protect returned (must be 0).",
        "storms", "*shootdowns*: protect calls that needed one; *call IPIs*: call-function IPIs sent; *full flushes on "
            + "targets*: flushes of a whole space instead of single entries (above the per-page ceiling); *storms*: "
            + "repeats of the 64-page unmap.",
        "load", "*offered*: the nominal rate over all callers, each sending its share on an absolute schedule (open "
            + "loop). *sent*: the achieved offer, first intended send to last real one. *done*: completions per second, "
            + "first intended send to last completion (the throughput). *p50/p90/p99*: latency from each request's "
            + "intended send time to its completion (coordinated omission corrected), '-' with fewer than 1,000 samples "
            + "beyond the percentile. *unsent*: requests a service so far behind its schedule never got (the point's "
            + "time budget ran out); *lost*: sent and not completed within the budget (both must be 0 for the row to "
            + "count). Waited services have one request per caller in flight, async ones up to "
            + LoadPart.OUTSTANDING + ".",
        "virt", "*per operation*: each count divided by the operations measured (e.g. pv flushes per op: deferred "
            + "PV TLB flushes a preempted core ran on its way back, per protect; yields per op: directed yields to a "
            + "preempted target, per call).");

    /** {@return the column definitions for the section under {@code heading}, or null} */
    static String columns(final String heading) {
        if (heading.equals(FLOORS)) {
            return COLUMNS.get("floors");
        } else if (heading.equals(MATRIX)) {
            return COLUMNS.get("matrix");
        } else if (heading.equals(IMPLIED)) {
            return COLUMNS.get("implied");
        } else if (heading.startsWith("Waited cross-core calls")) {
            return COLUMNS.get("calls");
        } else if (heading.startsWith("TLB shootdown")) {
            return COLUMNS.get("shootdowns");
        } else if (heading.startsWith("Unmap storm")) {
            return COLUMNS.get("storms");
        } else if (heading.equals(LOAD)) {
            return COLUMNS.get("load");
        } else if (heading.startsWith("Virtualization")) {
            return COLUMNS.get("virt");
        }
        return null;
    }

    /** The tables after the context, by heading, in report order. */
    Map<String, Table> sections() {
        final Map<String, Table> s = new LinkedHashMap<>();
        s.put("Round trip: send, handle, acknowledge", roundTrips());
        s.put(FLOORS, FloorsPart.table(find(FloorsPart.NAME)));
        s.put(MATRIX, MatrixPart.table(find(MatrixPart.NAME)));
        s.put(IMPLIED, MatrixPart.implied(find(MatrixPart.NAME)));
        s.put("Waited cross-core calls to every core (from an outside thread; cores park when idle)", calls());
        s.put("TLB shootdown: revoke write on one page (every core runs the space and idles parked)", shootdowns());
        s.put("Unmap storm: 64 pages, page by page versus one mmu_gather", storms());
        s.put("Virtualization: preempted cores, PV TLB flush, broadcast invalidation, posted interrupts, PV send-IPI, "
            + "directed yield", virt());
        s.put(LOAD, LoadPart.table(part("load")));
        s.put(SIM_CALLS, simulated("onEachCore"));
        s.put(SIM_SHOOTDOWNS, simulated("shootdown"));
        s.put("Simulated: unmap storm of " + SimPart.STORM_PAGES + " pages, page by page versus one mmu_gather (flat)",
            simulatedStorms());
        s.put("Calibration: this host's cost model (lab calibrate; the formulas are in the file's provenance)",
            calibration());
        s.put("Simulated against real: the calibrated model's prediction at 2, 4 and 8 cores (from core 0, idle cores "
            + "parked; 4 and 8 oversubscribed on this host and modelled so)", predictions());
        return s;
    }

    List<Result> results() {
        return results;
    }

    List<String> failures() {
        return failures;
    }

    String footer() {
        return footer;
    }

    Context context() {
        return context;
    }

    /** One row per result and metric: part, name, metric, median, min, max, repeats. */
    String csv() {
        final StringBuilder sb = new StringBuilder("part,name,family,metric,median,min,max,repeats\n");
        for (final Result r : results) {
            if (r.repeats().isEmpty()) {
                continue;
            }
            for (final String metric : r.repeats().get(0).keySet()) {
                sb.append(csvCell(r.part())).append(',').append(csvCell(r.name())).append(',').append(csvCell(r.family()))
                    .append(',').append(metric).append(',').append(num(r.median(metric))).append(',')
                    .append(num(r.min(metric))).append(',').append(num(r.max(metric))).append(',')
                    .append(r.repeats().size()).append('\n');
            }
        }
        return sb.toString();
    }

    Map<String, Object> toMap() {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "ipi4j-lab/1");
        m.put("context", context.values());
        final List<Object> rs = new ArrayList<>();
        results.forEach(r -> rs.add(r.toMap()));
        m.put("results", rs);
        m.put("failures", failures);
        return m;
    }

    // ---- formatting -------------------------------------------------------------------------

    private List<Result> part(final String part) {
        return results.stream().filter(r -> r.part().equals(part)).toList();
    }

    Result find(final String name) {
        return results.stream().filter(r -> r.name().equals(name) && r.error() == null).findFirst().orElse(null);
    }

    private String vsFloor(final Result r, final String metric, final String floorMetric) {
        if (r.floor() == null) {
            return "";
        }
        if (r.name().equals(r.floor())) {
            return "1 (the floor)";
        }
        final Result f = find(r.floor());
        if (f == null) {
            return "n/a (" + r.floor() + " not run)";
        }
        if (!supported(r, metric) || !supported(f, floorMetric)) {
            return "-";
        }
        final double ratio = interleaved(r, f) ? perRound(r, metric, f, floorMetric)
            : r.median(metric) / Math.max(1, f.median(floorMetric));
        if (ratio < 1 && (r.repeats().size() < 2 || f.repeats().size() < 2 || r.max(metric) < f.min(floorMetric))) {
            // A floor is a lower bound: one the variant beats beyond their spread measures nothing.
            return String.format(Locale.ROOT, "BROKEN FLOOR (%.2fx %s)", ratio, r.floor());
        }
        return String.format(Locale.ROOT, "%.2fx %s", ratio, r.floor());
    }

    /** True if {@code r} and its floor ran as interleaved trials: their repeats pair by round. */
    private static boolean interleaved(final Result r, final Result f) {
        return Boolean.TRUE.equals(r.info().get("interleaved")) && Boolean.TRUE.equals(f.info().get("interleaved"));
    }

    /**
     * The median over blocks of {@code metric / floorMetric}, each ratio taken between the
     * variant's trial and its floor's run beside it in the same block ({@link Schedule}): a speed
     * regime of the host that lasts a block falls on both and cancels (randomized multiple
     * interleaved trials). Results written before blocks existed pair by round. Trials either
     * side lacks are left out.
     */
    static double perRound(final Result r, final String metric, final Result f, final String floorMetric) {
        final String key = pairsBy(r, f);
        final Map<Double, Double> floorByKey = new LinkedHashMap<>();
        for (final Map<String, Double> rep : f.repeats()) {
            if (rep.containsKey(key) && rep.containsKey(floorMetric)) {
                floorByKey.put(rep.get(key), rep.get(floorMetric));
            }
        }
        final List<Double> ratios = new ArrayList<>();
        for (final Map<String, Double> rep : r.repeats()) {
            final Double floor = floorByKey.get(rep.get(key));
            if (floor != null && rep.containsKey(metric)) {
                ratios.add(rep.get(metric) / Math.max(1, floor));
            }
        }
        if (ratios.isEmpty()) {
            return r.median(metric) / Math.max(1, f.median(floorMetric));
        }
        return Trials.median(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** "block" where both sides' repeats carry it, else "round". */
    private static String pairsBy(final Result r, final Result f) {
        final boolean blocks = !r.repeats().isEmpty() && !f.repeats().isEmpty()
            && r.repeats().stream().allMatch(m -> m.containsKey("block"))
            && f.repeats().stream().allMatch(m -> m.containsKey("block"));
        return blocks ? "block" : "round";
    }

    /**
     * A percentile is quoted only when at least this many samples lie beyond it (so p50 needs
     * 2,000 samples, p99 100,000, p99.9 a million): fewer, and the figure is one outlier's.
     */
    static final int MIN_BEYOND = 1000;

    /** A time metric, or "-" for a percentile its samples cannot support ({@link #MIN_BEYOND}). */
    static String time(final Result r, final String metric) {
        return supported(r, metric) ? spread(r, metric, Report::us) : "-";
    }

    /** False for a percentile metric ({@code *_p50_ns}, {@code *_p99_ns}, {@code *_p999_ns}) with too few samples beyond it. */
    static boolean supported(final Result r, final String metric) {
        final double p = metric.contains("_p999_") ? 0.999 : metric.contains("_p99_") ? 0.99
            : metric.contains("_p50_") ? 0.5 : Double.NaN;
        if (Double.isNaN(p)) {
            return true;
        }
        final String samples = metric.startsWith("paced_") ? "samples_paced" : metric.startsWith("b2b_") ? "samples_b2b"
            : "samples";
        final double n = r.median(samples);
        return Double.isNaN(n) || n * (1 - p) >= MIN_BEYOND - 1e-9;
    }

    private static String plain(final Result r, final String metric, final String format) {
        return spread(r, metric, v -> String.format(Locale.ROOT, format, v));
    }

    static String count(final Result r, final String metric) {
        final double v = r.median(metric);
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String spread(final Result r, final String metric, final Function<Double, String> f) {
        final double median = r.median(metric);
        if (Double.isNaN(median)) {
            return "";
        }
        if (r.repeats().size() < 2) {
            return f.apply(median);
        }
        return f.apply(median) + " [" + f.apply(r.min(metric)) + "-" + f.apply(r.max(metric)) + "]";
    }

    /** Nanoseconds as microseconds, two decimals under 10 us. */
    static String us(final double nanos) {
        if (Double.isNaN(nanos)) {
            return "";
        }
        return nanos < 10_000 ? String.format(Locale.ROOT, "%.2f us", nanos / 1e3)
            : String.format(Locale.ROOT, "%.0f us", nanos / 1e3);
    }

    private static String flat(final Map<?, ?> m) {
        final StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "; ").append(k).append(' ').append(v));
        return sb.toString();
    }

    private static String yesNo(final Object o) {
        return Boolean.TRUE.equals(o) ? "yes" : "no";
    }

    private static String num(final double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static String csvCell(final String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
