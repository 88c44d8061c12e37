package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Runs the lab's steps one after the other. Each result is printed as it finishes, with the
 * elapsed time and an estimate of what is left, and every output (Markdown, HTML, JSON, CSV) is
 * rewritten at once, so a failure, or an interrupted run, keeps what was measured. A step that
 * throws is named in the report and on the console, and the others still run.
 */
final class LabRun {
    /** One measurement: a label for the console, and the code that measures it. */
    record Step(String label, Callable<Result> measure) {
    }

    private final Settings settings;
    private final Context context;
    private final Path out;
    private final Path json;
    private final Path csv;
    private final PrintWriter console;
    private final List<Result> results = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final long started = System.nanoTime();

    LabRun(final Settings settings, final Context context, final Path out, final Path json, final Path csv,
           final PrintWriter console) {
        this.settings = settings;
        this.context = context;
        this.out = out;
        this.json = json;
        this.csv = csv;
        this.console = console;
    }

    /** {@return 0 if every step succeeded, 1 otherwise} @param steps what to measure, in order */
    int run(final List<Step> steps) throws IOException {
        Files.createDirectories(out);
        for (int i = 0; i < steps.size(); i++) {
            final Step step = steps.get(i);
            console.printf(Locale.ROOT, "[lab %2d/%d] %s ...%n", i + 1, steps.size(), step.label());
            final long t = System.nanoTime();
            try {
                final Result r = step.measure().call();
                if (results.stream().noneMatch(x -> x == r)) {
                    results.add(r); // an interleaved figure's later rounds add to the result its first round added
                    // Round trips run shuffled; they are reported in the order of the settings (a stable sort).
                    results.sort(java.util.Comparator.comparingInt(x -> x.part().equals("roundtrip")
                        ? settings.variants().indexOf(x.name()) : Integer.MAX_VALUE));
                }
                console.printf(Locale.ROOT, "[lab %2d/%d] %s: %s (%.1f s)%n", i + 1, steps.size(), r.name(), headline(r),
                    (System.nanoTime() - t) / 1e9);
            } catch (Exception | LinkageError e) {
                final String why = step.label() + ": " + e;
                failures.add(why);
                console.printf(Locale.ROOT, "[lab %2d/%d] FAILED %s%n", i + 1, steps.size(), why);
            }
            final double elapsed = (System.nanoTime() - started) / 1e9;
            final double left = elapsed / (i + 1) * (steps.size() - i - 1);
            console.printf(Locale.ROOT, "[lab] %.0f s elapsed, about %.0f s left%n", elapsed, left);
            console.flush();
            write(false);
        }
        context.finish();
        write(true);
        console.println("[lab] report: " + out.resolve("report.md") + ", " + out.resolve("report.html") + ", " + json
            + (csv != null ? ", " + csv : ""));
        if (!failures.isEmpty()) {
            console.println("[lab] " + failures.size() + " step(s) failed; the report names them");
        }
        console.flush();
        return failures.isEmpty() ? 0 : 1;
    }

    private void write(final boolean done) throws IOException {
        final String footer = String.format(Locale.ROOT, "%s in %d s%s", done ? "Lab ran" : "Partial report: lab still running, "
            + results.size() + " figure(s) so far,", Duration.ofNanos(System.nanoTime() - started).toSeconds(),
            settings.smoke() ? ", in smoke mode: these numbers are not measurements." : ".");
        final Report report = new Report(context, results, failures, footer);
        replace(out.resolve("report.md"), report.markdown());
        replace(out.resolve("report.html"), Html.page(report));
        replace(json, Json.write(report.toMap()));
        if (csv != null) {
            replace(csv, report.csv());
        }
    }

    /** Writes beside the target, then moves: a reader never sees half a file. */
    private static void replace(final Path target, final String text) throws IOException {
        final Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        final Path tmp = parent.resolve(target.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String headline(final Result r) {
        return switch (r.part()) {
            case "roundtrip" -> "paced p50 " + Report.time(r, "paced_p50_ns") + ", b2b p50 " + Report.time(r, "b2b_p50_ns")
                + ", CPU/msg paced " + Report.time(r, "cpu_paced_ns");
            case "smp" -> "p50 " + Report.time(r, "call_p50_ns") + ", p99 " + Report.time(r, "call_p99_ns");
            case "shootdown" -> "p50 " + Report.time(r, "revoke_p50_ns") + ", stale after return "
                + String.format(Locale.ROOT, "%.0f", r.max("stale_after_return"));
            case "sim" -> Report.us(r.median("virtual_ns")) + " virtual, " + String.format(Locale.ROOT, "%.0f sends, %.0f "
                + "switches, %.0f ms real", r.median("sends"), r.median("switches"), r.median("real_ms"));
            case "sim-predict" -> "simulated " + Report.us(r.median("sim_ns")) + ", real p50 " + Report.us(r.median("real_p50_ns"))
                + String.format(Locale.ROOT, ", real / simulated %.2f", r.median("real_p50_ns") / r.median("sim_ns"));
            case "calibration" -> String.format(Locale.ROOT, "send %.0f ns, wake %.0f ns, interrupt %.0f ns, context switch "
                + "%.0f ns", r.median("send_ns"), r.median("wake_ns"), r.median("interrupt_ns"),
                r.median("context_switch_ns"));
            case "virt" -> "p50 " + Report.time(r, "op_p50_ns") + ", p99 " + Report.time(r, "op_p99_ns");
            case "storm" -> String.format(Locale.ROOT, "%.0f pages/s, %.0f call IPIs", r.median("pages_per_s"),
                r.median("call_ipis"));
            case "floors" -> FloorsPart.headline(r);
            case "matrix" -> "topology " + r.info().get("topology") + ", hypervisor "
                + (Boolean.TRUE.equals(r.info().get("hypervisor")) ? "yes" : "no") + ", " + r.info().get("pairs_measured")
                + " of " + r.info().get("pairs") + " pairs";
            default -> ""; // a part without a headline prints its name only, never a figure it did not measure
        };
    }
}
