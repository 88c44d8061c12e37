package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.ipi4j.sim.CostModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The calibration's formulas on synthetic figures with known answers, the round trip measured
 * figures to file to model, the prediction-error statistic, and {@code lab calibrate} itself.
 */
@Timeout(120)
class CalibrationTest {
    /** hop 50; ping-pong spinning 2 x (100 + 50 + 350) = 1000; parking 2 x (9000 + 50 + 5000 + 350) = 28800. */
    private static final Calibration.Figures KNOWN = new Calibration.Figures(50, 1000, 28_800, 100, 9000, 40, 900, 2500,
        25.4, 2);

    @Test
    void theFormulasGiveTheirKnownAnswersOnSyntheticFigures() {
        assertThat(KNOWN.send()).isEqualTo(100); // the raise alone
        assertThat(KNOWN.unpark()).isEqualTo(8900); // 9000 - 100: the parked target's futex wake
        assertThat(KNOWN.latency()).isEqualTo(50);
        assertThat(KNOWN.interrupt()).isEqualTo(350); // 1000 / 2 - 100 - 50
        assertThat(KNOWN.wake()).isEqualTo(5000); // 28800 / 2 - 9000 - 50 - 350
        assertThat(KNOWN.flushPage()).isEqualTo(40);
        assertThat(KNOWN.flushAll()).isEqualTo(900);
        assertThat(KNOWN.spin()).isEqualTo(25);
        assertThat(KNOWN.contextSwitch()).isEqualTo(2500);
        // Noise that makes a difference negative gives 0, not a negative price the model would refuse.
        final Calibration.Figures noisy = new Calibration.Figures(50, 100, 200, 100, 9000, 0, 0, Double.NaN, 0.1, 2);
        assertThat(noisy.interrupt()).isZero();
        assertThat(noisy.wake()).isZero();
        assertThat(noisy.contextSwitch()).isZero();
        assertThat(noisy.spin()).isEqualTo(1); // the model's floor
    }

    @Test
    void measuredFiguresGoThroughTheFileIntoAModelWithTheSamePrices(@TempDir final Path dir) throws Exception {
        final double[] hops = {Double.NaN, 50, Double.NaN, Double.NaN};
        final CostModel model = CalibrateCommand.model(KNOWN, hops, Map.of("host", "test-host", "date", "2026-01-01",
            "commit", "abc", "java", "17"));
        final Path file = dir.resolve("cost-model.properties");
        model.write(file);
        final CostModel read = CostModel.read(file);
        assertThat(read).isEqualTo(model);
        assertThat(read.send()).isEqualTo(100);
        assertThat(read.prices()).containsEntry(CostModel.UNPARK, 8900L);
        assertThat(read.hop(1)).isEqualTo(50);
        assertThat(read.hop(2)).isEqualTo(CostModel.defaults().hop(2)); // not measured: the default stays
        assertThat(read.hop(3)).isEqualTo(CostModel.defaults().hop(3));
        assertThat(read.wake()).isEqualTo(5000);
        assertThat(read.interrupt()).isEqualTo(350);
        assertThat(read.flushPage()).isEqualTo(40);
        assertThat(read.flushAll()).isEqualTo(900);
        assertThat(read.spin()).isEqualTo(25);
        assertThat(read.hostCpus()).isEqualTo(2);
        assertThat(read.contextSwitch()).isEqualTo(2500);
        assertThat(read.latency(0, 1)).isEqualTo(50 + 5000); // a wake-up: the hop and the parked core's way out
        assertThat(read.provenance()).containsEntry("host", "test-host").containsKeys("date", "commit", "java", "wake",
            "measured.ping_park_rtt_ns");
        assertThat(read.provenance().get("latency.sameSocket")).startsWith("not measured");
        assertThat(CalibrateCommand.figures(read)).containsEntry("wake_ns", 5000.0).containsEntry("unpark_ns", 8900.0)
            .containsEntry("host_cpus", 2.0);
    }

    @Test
    void theLatencyPerDistanceIsTheMedianOverThePairsAtThatDistance() {
        // Two complexes of two CPUs: 0-1 and 2-3 near (40, 60), across complexes far (200 .. 230).
        final double[][] m = new double[4][4];
        for (final double[] row : m) {
            Arrays.fill(row, Double.NaN);
        }
        set(m, 0, 1, 40);
        set(m, 2, 3, 60);
        set(m, 0, 2, 200);
        set(m, 0, 3, 210);
        set(m, 1, 2, 220);
        set(m, 1, 3, 230);
        final boolean[][] pinned = new boolean[4][4];
        final double[] hops = Calibration.hopByDistance(new CoreToCore.Matrix(m, pinned, false));
        assertThat(hops[1]).isEqualTo(50);
        assertThat(hops[2]).isEqualTo(215);
        assertThat(hops[3]).isNaN(); // one socket: no pair across sockets
    }

    private static void set(final double[][] m, final int a, final int b, final double v) {
        m[a][b] = v;
        m[b][a] = v;
    }

    @Test
    void thePredictionErrorIsTheMedianOfAbsoluteRelativeErrorsPerCoreCount() {
        assertThat(Prediction.error(150, 100)).isCloseTo(0.5, within(1e-12));
        assertThat(Prediction.error(50, 100)).isCloseTo(0.5, within(1e-12));
        assertThat(Prediction.error(100, 100)).isZero();
        final List<Result> rs = new ArrayList<>();
        rs.add(prediction(2, 110, 100)); // 10%
        rs.add(prediction(2, 70, 100)); // 30%
        rs.add(prediction(2, 120, 100)); // 20%
        rs.add(prediction(4, 300, 100)); // 200%
        rs.add(prediction(4, 100, 100)); // 0%
        final Result failed = prediction(4, 1, 100);
        failed.fail("broke");
        rs.add(failed); // a failed figure counts for nothing
        final Map<Integer, Double> e = Prediction.medianErrors(rs);
        assertThat(e.get(2)).isCloseTo(0.20, within(1e-9));
        assertThat(e.get(4)).isCloseTo(1.00, within(1e-9));
        assertThat(Prediction.target(2)).isEqualTo(0.25);
        assertThat(Prediction.target(4)).isEqualTo(0.50);
        assertThat(Prediction.target(8)).isEqualTo(0.50);
        final String md = Prediction.table(rs).markdown();
        assertThat(md).contains("| 2 | median over the figures |", "20% (target 25%: met)", "100% (target 50%: MISSED)");
    }

    private static Result prediction(final int cores, final double real, final double simulated) {
        final Result r = new Result("sim-predict", cores + " cores: figure " + real, "real vs simulated", null);
        r.info().put("cores", cores);
        r.info().put("figure", "onEachCore flat");
        r.addRepeat(new java.util.LinkedHashMap<>(Map.of("sim_ns", simulated, "real_p50_ns", real, "samples", 10.0)));
        return r;
    }

    @Test
    void labCalibrateWritesAFileTheSimulationReads(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("calibrate", "--out", dir.toString(), "--repeat", "1",
            "--samples", "20");
        assertThat(run.code()).as(run.err()).isZero();
        final Path file = dir.resolve(CalibrateCommand.FILE);
        assertThat(run.out()).contains("wrote " + file);
        final CostModel model = CostModel.read(file);
        assertThat(model.provenance()).containsKeys("host", "date", "commit", "java", "send", "wake", "interrupt",
            "contextSwitch", "measured.ping_park_rtt_ns");
        assertThat(model.hostCpus()).isEqualTo(org.ipi4j.Machine.hostCpus());
        assertThat(model.prices().get(CostModel.UNPARK)).isPositive(); // waking a parked core is a system call: never free
        assertThat(Files.readString(file)).contains("provenance.date=");
        assertThat(LabCommandTest.lab("calibrate", "--samples", "3").err()).contains("--samples must be at least 10, not 3");
        assertThat(LabCommandTest.lab("calibrate", "--repeat", "0").code()).isEqualTo(2);
    }

    @Test
    void theMainJobsCalibrationStepWritesTheFileIntoItsReport(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("--smoke", "--variants", "calibration", "--out", dir.toString());
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        final CostModel model = CostModel.read(dir.resolve(CalibrateCommand.FILE));
        final Compare.Run results = Compare.read(dir.resolve("results.json"));
        assertThat(results.results()).extracting(Result::part).containsExactly("calibration");
        assertThat(results.results().get(0).median("send_ns")).isEqualTo((double) model.send());
        assertThat(Files.readString(dir.resolve("report.md"))).contains("Calibration: this host's cost model", "send_ns");
    }

    @Test
    void calibrationRefusesTooFewRepeatsOrSamples() {
        assertThatThrownBy(() -> Calibration.measure(0, 100, 1, 50)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("1 repeat");
        assertThatThrownBy(() -> Calibration.measure(1, 9, 1, 50)).hasMessageContaining("10 samples");
    }
}
