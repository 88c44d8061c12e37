package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.HistogramLogReader;
import org.ipi4j.sim.CostModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(120)
class LabCommandTest {
    /** The output, error text and exit code of one command line. */
    record Run(int code, String out, String err) {
    }

    static Run lab(final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final CommandLine cl = LabCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        final int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpAndListAnswerWithoutMeasuring() {
        final Run help = lab("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Usage: lab", "--variants", "--repeat", "--hlog", "--jfr", "compare");
        final Run list = lab("--list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains("ipi-spin", "disruptor-busyspin", "floor-park", "Parts:");
    }

    @Test
    void badArgumentsGetOneLineNamingThemAndExitCode2() {
        final Run noValue = lab("--out");
        assertThat(noValue.code()).isEqualTo(2);
        assertThat(noValue.err()).contains("--out").contains("--help").doesNotContain("Exception").doesNotContain("\tat ");
        final Run unknown = lab("--variants", "ipi-spin,warp-drive");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("'warp-drive'").contains("--list");
        assertThat(lab("--repeat", "0").err()).contains("--repeat must be at least 1, not 0");
        assertThat(lab("--pace", "fast").err()).contains("'fast' is not a duration");
        assertThat(lab("--cores", "0").err()).contains("--cores");
        assertThat(lab("compare", "only-one.json").code()).isEqualTo(2);
        assertThat(lab("--simulate", "--sim-cores", "1").err()).contains("--sim-cores takes core counts from 2 to 1024, not 1");
        assertThat(lab("--simulate", "--sim-cores", "2048").code()).isEqualTo(2);
    }

    @Test
    void simulateRunsOnlyTheSimulatedPartAndTheSameSeedAndModelFileGiveTheSameFigures(@TempDir final Path dir)
            throws Exception {
        final Path model = dir.resolve("model.properties");
        CostModel.defaults().toBuilder().provenance("host", "a test").build().write(model);
        final Run first = lab("--simulate", "--smoke", "--sim-cores", "2,16", "--seed", "5", "--cost-model", model.toString(),
            "--out", dir.resolve("a").toString());
        assertThat(first.code()).as(first.err()).isZero();
        final Run again = lab("--simulate", "--smoke", "--sim-cores", "2,16", "--seed", "5", "--cost-model", model.toString(),
            "--out", dir.resolve("b").toString());
        assertThat(again.code()).as(again.err()).isZero();
        final Compare.Run a = Compare.read(dir.resolve("a/results.json"));
        final Compare.Run b = Compare.read(dir.resolve("b/results.json"));
        // Only the simulated part and its prediction against the host ran: the model came from the file, so no calibration.
        assertThat(a.results()).extracting(Result::part).containsOnly("sim", "sim-predict");
        final Map<String, Double> va = a.results().stream().filter(r -> !r.part().equals("calibration"))
            .collect(Collectors.toMap(Result::name, r -> r.median(r.part().equals("sim") ? "virtual_ns" : "sim_ns")));
        final Map<String, Double> vb = b.results().stream().filter(r -> !r.part().equals("calibration"))
            .collect(Collectors.toMap(Result::name, r -> r.median(r.part().equals("sim") ? "virtual_ns" : "sim_ns")));
        assertThat(va).hasSize(2 * 2 * SimPart.SHAPES.size() + 2 * 2 + Prediction.CORES.size() * Prediction.figures().size())
            .isEqualTo(vb);
        // At 16 cores a tree beats serial by far: the model is not flat.
        assertThat(va.get("sim onEachCore tree(4) on 16 cores")).isLessThan(va.get("sim onEachCore serial on 16 cores") / 2);
        final String md = Files.readString(dir.resolve("a/report.md"));
        assertThat(md).contains(Report.SIM_CALLS, Report.SIM_SHOOTDOWNS, "Simulated against real", "| 16 |",
            "| 4 (oversubscribed) | storm batched |", "median over the figures", "(target 25%: ");
        assertThat(md).doesNotContain("Round trip: send");
    }

    @Test
    void aBadCostModelFileIsRefusedNamingTheOptionAndTheFile(@TempDir final Path dir) throws Exception {
        final Run missing = lab("--simulate", "--cost-model", dir.resolve("nothing-here.properties").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("--cost-model", "nothing-here.properties", "no such file")
            .doesNotContain("\tat ");
        final Path broken = dir.resolve("broken.properties");
        Files.writeString(broken, "send=12\n");
        final Run bad = lab("--simulate", "--cost-model", broken.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--cost-model", "broken.properties", "latency.sameComplex");
    }

    @Test
    void aSmokeRunWritesEveryOutputWithItsContextAndAddsTheFloorsItNeeds(@TempDir final Path dir) throws Exception {
        final Run run = lab("--smoke", "--variants", "ipi-park,storm", "--repeat", "2", "--rounds", "2", "--csv", "--hlog",
            "--out", dir.toString());
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("[lab  1/6]", "(round 2/2)", "elapsed, about", "left", "ipi-park: paced p50"); // 2 rounds of 2 round trips, 2 storms

        final Compare.Run results = Compare.read(dir.resolve("results.json"));
        final List<String> names = results.results().stream().map(Result::name).collect(Collectors.toList());
        // floor-park is added: ipi-park's ratio needs its floor from the same run.
        assertThat(names).containsExactly("floor-park", "ipi-park", "unmap storm page by page",
            "unmap storm batched (one gather)");
        assertThat(results.results()).allSatisfy(r -> assertThat(r.repeats()).hasSize(2));
        final Result park = results.results().get(1);
        assertThat(park.median("samples_paced")).isEqualTo(100);
        assertThat(park.median("paced_p50_ns")).isPositive();
        assertThat(park.median("pace_achieved_ns")).isGreaterThanOrEqualTo(50_000 * 0.9);
        assertThat(park.distributions().get("paced")).isNotEmpty();
        assertThat(results.context()).containsKeys("ipi4j version", "commit", "JVM", "JVM flags", "CPU", "host CPUs",
            "pinning", "load average before", "load average after", "settings");
        assertThat(String.valueOf(results.context().get("JVM flags"))).contains("--add-exports");

        final String md = Files.readString(dir.resolve("report.md"));
        assertThat(md).contains("| ipi-park | ipi4j |", "achieved pace", "Lab ran in");
        // A smoke run's 100 paced samples support no percentile: its p50 and the ratio built on it print "-".
        final String parkRow = md.lines().filter(l -> l.startsWith("| ipi-park | ipi4j |")).findFirst().orElseThrow();
        assertThat(parkRow.split("\\|")[7].trim()).isEqualTo("-");
        assertThat(parkRow).doesNotContain("x floor-park");
        final List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertThat(csv.get(0)).isEqualTo("part,name,family,metric,median,min,max,repeats");
        assertThat(csv).anyMatch(l -> l.startsWith("roundtrip,ipi-park,ipi4j,paced_p50_ns,") && l.endsWith(",2"));

        // One HdrHistogram log per figure, one interval histogram per repeat and kind.
        final List<String> tags = new ArrayList<>();
        final HistogramLogReader reader = new HistogramLogReader(dir.resolve("hlog/ipi-park.hlog").toFile());
        for (EncodableHistogram h = reader.nextIntervalHistogram(); h != null; h = reader.nextIntervalHistogram()) {
            tags.add(h.getTag());
        }
        assertThat(tags).containsExactly("b2b-0", "paced-0", "b2b-1", "paced-1");
    }

    @Test
    void aFailedStepIsNamedAndWhatWasMeasuredBeforeAndAfterIsKept(@TempDir final Path dir) throws Exception {
        final Settings s = new Settings(true, java.time.Duration.ofMillis(20), java.time.Duration.ofNanos(50_000), 20, 1,
            List.of(2), List.of("floor-spin"), List.of("roundtrip", "storm"));
        final Path json = dir.resolve("results.json");
        final StringWriter console = new StringWriter();
        try (Sink sink = new Sink(null)) {
            final List<LabRun.Step> steps = List.of(
                RoundTripPart.steps(s, sink).get(0), // one variant, one round: one trial
                new LabRun.Step("a step that breaks", () -> {
                    // The first figure is already on disk while the second runs.
                    assertThat(Compare.read(json).results()).extracting(Result::name).containsExactly("floor-spin");
                    throw new IllegalStateException("the responder died");
                }),
                new LabRun.Step("unmap storm batched", () -> CallPart.storm(true, s)));
            final int code = new LabRun(s, Context.capture(Map.of()), dir, json, null, new PrintWriter(console))
                .run(steps);
            assertThat(code).isEqualTo(1);
        }
        assertThat(console.toString()).contains("FAILED a step that breaks: java.lang.IllegalStateException: the responder died");
        assertThat(Compare.read(json).results()).extracting(Result::name)
            .containsExactly("floor-spin", "unmap storm batched (one gather)");
        assertThat(Files.readString(dir.resolve("report.md"))).contains("## Failed", "a step that breaks", "the responder died");
        assertThat(Files.readString(dir.resolve("report.html"))).contains("<h2>Failed</h2>", "the responder died");
    }
}
