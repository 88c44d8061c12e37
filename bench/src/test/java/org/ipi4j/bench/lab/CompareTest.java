package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareTest {
    static Result roundTrip(final String name, final double... pacedP50) {
        final Result r = new Result("roundtrip", name, "ipi4j", "floor-spin");
        for (final double v : pacedP50) {
            r.addRepeat(Map.of("paced_p50_ns", v));
        }
        return r;
    }

    static Path write(final Path dir, final String file, final Result... results) throws Exception {
        final Report report = new Report(Context.of(Map.of("commit", file)), List.of(results), List.of(), "test");
        final Path p = dir.resolve(file);
        Files.writeString(p, Json.write(report.toMap()));
        return p;
    }

    @Test
    void onlyDifferencesLargerThanTheSpreadAreFlagged(@TempDir final Path dir) throws Exception {
        final Path a = write(dir, "a.json", roundTrip("steady", 1000, 1050, 1100), roundTrip("faster", 2000, 2100, 2200),
            roundTrip("once", 500), roundTrip("gone", 7));
        final Path b = write(dir, "b.json", roundTrip("steady", 1020, 1080, 1110), roundTrip("faster", 1000, 1010, 1030),
            roundTrip("once", 900), roundTrip("new", 8));
        final String md = Compare.compare(Compare.read(a), Compare.read(b), "a.json", "b.json");
        assertThat(md).contains("| steady | paced_p50_ns | 1.05 us [1.00 us-1.10 us] | 1.08 us [1.02 us-1.11 us] | 1.03 | within spread");
        assertThat(md).contains("| faster | paced_p50_ns | 2.10 us [2.00 us-2.20 us] | 1.01 us [1.00 us-1.03 us] | 0.48 | **differs**");
        assertThat(md).contains("| once | paced_p50_ns |").contains("one repeat: no spread to judge by");
        assertThat(md).contains("1 figure(s) differ", "Only in A: gone", "Only in B: new");
        assertThat(md).contains("| commit | a.json | b.json |");
    }

    /** The load curve per offered rate (latency, then throughput, rates in order) and the calibration's figures. */
    @Test
    void theLoadCurveAndTheCalibrationAreCompared(@TempDir final Path dir) throws Exception {
        final Result loadA = new Result("load", "load call x1", "ipi4j", null);
        final Result loadB = new Result("load", "load call x1", "ipi4j", null);
        for (int i = 0; i < 2; i++) {
            loadA.addRepeat(Map.of("at300000_lat_p50_ns", 700.0 + i, "at300000_done_per_s", 3e5, "at30000_lat_p50_ns", 400.0,
                "at30000_samples", 3000.0, "x_done_per_s", 1.0));
            loadB.addRepeat(Map.of("at300000_lat_p50_ns", 1400.0 + i, "at300000_done_per_s", 3e5, "at30000_lat_p50_ns", 401.0,
                "at30000_samples", 3000.0));
        }
        assertThat(Compare.metricsOf(loadA)).containsExactly("at30000_lat_p50_ns", "at300000_lat_p50_ns",
            "at300000_done_per_s");
        final Result calA = new Result("calibration", "calibration", "ipi4j", null);
        calA.addRepeat(Map.of("send_ns", 100.0, "wake_ns", 20_000.0));
        final Result calB = new Result("calibration", "calibration", "ipi4j", null);
        calB.addRepeat(Map.of("send_ns", 150.0, "wake_ns", 20_000.0));
        final String md = Compare.compare(Compare.read(write(dir, "a.json", loadA, calA)),
            Compare.read(write(dir, "b.json", loadB, calB)), "a.json", "b.json");
        assertThat(md).contains("| load call x1 | at300000_lat_p50_ns |", "| load call x1 | at30000_lat_p50_ns |",
            "| load call x1 | at300000_done_per_s |", "| calibration | send_ns |", "| calibration | wake_ns |");
        assertThat(md).doesNotContain("at30000_samples").doesNotContain("x_done_per_s");
        assertThat(md).containsPattern("\\| load call x1 \\| at300000_lat_p50_ns \\|[^\\n]*\\| 2\\.00 \\| \\*\\*differs");
    }

    @Test
    void aFileThatIsNotALabRunIsRefusedByName(@TempDir final Path dir) throws Exception {
        final Path p = dir.resolve("other.json");
        Files.writeString(p, "{\"hello\": 1}");
        assertThatThrownBy(() -> Compare.read(p)).hasMessageContaining("other.json").hasMessageContaining("ipi4j-lab/1");
        assertThatThrownBy(() -> Compare.read(dir.resolve("missing.json"))).hasMessageContaining("missing.json");
        final LabCommandTest.Run run = LabCommandTest.lab("compare", p.toString(), p.toString());
        assertThat(run.code()).isNotZero();
        assertThat(run.err()).contains("ipi4j-lab/1");
    }

    @Test
    void jsonRoundTrips() {
        final Object v = Json.parse(Json.write(Map.of("a", List.of(1.5, -2.0, "x\"y\n"), "b", true)));
        assertThat(v).isEqualTo(Map.of("a", List.of(1.5, -2.0, "x\"y\n"), "b", true));
        assertThatThrownBy(() -> Json.parse("{\"a\": }")).hasMessageContaining("line 1, column 7");
        // The lab's one policy of its own: a figure not measured is null, never a NaN token.
        assertThat(Json.write(Map.of("x", Double.NaN, "y", new double[] {1, Double.POSITIVE_INFINITY})))
            .doesNotContain("NaN", "Infinity").contains("null");
        assertThat(Json.parse("{\"n\": 3}")).isEqualTo(Map.of("n", 3.0)); // whole numbers come back as doubles
    }
}
