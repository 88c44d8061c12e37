package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The report says when a paced run missed its pace and how late it was, and defines every column it prints. */
class ReportTest {
    private static Result paced(final double achievedNanos, final double late) {
        final Result r = new Result("roundtrip", "ipi-park", "ipi4j", "floor-park");
        r.addRepeat(Map.of("pace_achieved_ns", achievedNanos, "pace_nominal_ns", 50_000.0, "paced_late", late));
        return r;
    }

    @Test
    void anAchievedPaceMoreThanTenPercentOffTheNominalOneIsMarked() {
        assertThat(Report.pace(paced(66_000, 0.4))).isEqualTo("66 us OFF PACE (nominal 50 us), 40% late");
        assertThat(Report.pace(paced(44_000, 0.0))).contains("OFF PACE");
    }

    @Test
    void aPaceWithinTenPercentIsNotMarked() {
        assertThat(Report.pace(paced(52_000, 0.01))).isEqualTo("52 us, 1% late");
    }

    @Test
    void aResultWithoutTheNominalPaceShowsTheAchievedOneOnly() {
        final Result r = new Result("roundtrip", "old", "ipi4j", "floor-park");
        r.addRepeat(Map.of("pace_achieved_ns", 60_000.0));
        assertThat(Report.pace(r)).isEqualTo("60 us");
    }

    @Test
    void theShootdownColumnsTheReportPrintsAreDefinedUnderTheirTable() {
        final Result r = new Result("shootdown", "shootdown-2", "ipi4j", "floor-park");
        r.addRepeat(Map.of("revoke_p50_ns", 5000.0, "window_p50_ns", 3000.0));
        final String md = new Report(Context.of(Map.of("commit", "x")), java.util.List.of(r), java.util.List.of(), "t")
            .markdown();
        for (final String column : new String[] {"*window*", "*delivery*", "*irq-off delay*", "*handler*", "*storm cost*",
            "*stale after return*"}) {
            assertThat(md).contains(column);
        }
        assertThat(Report.columns("Round trip: send, handle, acknowledge")).isNull(); // METHOD defines those
    }

    @Test
    void aPercentileIsPrintedOnlyWithAThousandSamplesBeyondIt() {
        final Result r = new Result("roundtrip", "ipi-spin", "ipi4j", "floor-spin");
        r.addRepeat(Map.of("paced_p50_ns", 2000.0, "paced_p99_ns", 9000.0, "samples_paced", 2000.0,
            "b2b_p99_ns", 3000.0, "samples_b2b", 100_000.0));
        assertThat(Report.time(r, "paced_p50_ns")).isEqualTo("2.00 us"); // 1,000 beyond the median
        assertThat(Report.time(r, "paced_p99_ns")).isEqualTo("-"); // 20 beyond: one outlier's figure
        assertThat(Report.time(r, "b2b_p99_ns")).isEqualTo("3.00 us");
        final Result few = new Result("roundtrip", "ipi-park", "ipi4j", "floor-park");
        few.addRepeat(Map.of("paced_p50_ns", 2000.0, "samples_paced", 100.0));
        assertThat(Report.time(few, "paced_p50_ns")).isEqualTo("-");
    }

    @Test
    void aVariantThatBeatsItsFloorIsMarkedBrokenFloorNotGivenARatio() {
        final Result floor = new Result("roundtrip", "floor-park", "floor", "floor-park");
        floor.addRepeat(Map.of("paced_p50_ns", 30_000.0, "samples_paced", 2000.0));
        final Result variant = new Result("roundtrip", "ipi-park", "ipi4j", "floor-park");
        variant.addRepeat(Map.of("paced_p50_ns", 10_000.0, "samples_paced", 2000.0));
        final String md = new Report(Context.of(Map.of("commit", "x")), java.util.List.of(floor, variant),
            java.util.List.of(), "t").markdown();
        assertThat(md).contains("BROKEN FLOOR (0.33x floor-park)");
        final java.util.List<Trials.Trial> trials = new java.util.ArrayList<>();
        for (int round = 1; round <= 4; round++) {
            trials.add(new Trials.Trial(round, "floor-park", null, 30_000, 1000, false));
            trials.add(new Trials.Trial(round, "ipi-park", "floor-park", 10_000 + round, 1000, false));
        }
        final java.util.List<Trials.Comparison> c = Trials.compare(trials, 1);
        assertThat(Trials.table(c, 4, java.time.Duration.ofMillis(100))).contains("BROKEN FLOOR");
        assertThat(Trials.table(c, 4, java.time.Duration.ofMillis(100), false)).doesNotContain("BROKEN FLOOR");
    }

    @Test
    void anInterleavedRoundTripsRatioIsTheMedianOfItsPerRoundRatios() {
        final Result floor = new Result("roundtrip", "floor-spin", "floor", "floor-spin");
        final Result variant = new Result("roundtrip", "ipi-spin", "ipi4j", "floor-spin");
        floor.info().put("interleaved", true);
        variant.info().put("interleaved", true);
        final double[] speed = {1, 3, 1}; // the host slows down threefold in round 1, for both
        for (int round = 0; round < 3; round++) {
            floor.addRepeat(Map.of("paced_p50_ns", 100 * speed[round], "round", (double) round));
            variant.addRepeat(Map.of("paced_p50_ns", 130 * speed[round], "round", (double) round));
        }
        assertThat(Report.perRound(variant, "paced_p50_ns", floor, "paced_p50_ns")).isCloseTo(1.3,
            org.assertj.core.api.Assertions.within(1e-9));
        final Result partial = new Result("roundtrip", "ipi-park", "ipi4j", "floor-spin");
        partial.info().put("interleaved", true);
        partial.addRepeat(Map.of("paced_p50_ns", 390.0, "round", 1.0)); // ran only in the slow round
        assertThat(Report.perRound(partial, "paced_p50_ns", floor, "paced_p50_ns")).isCloseTo(1.3,
            org.assertj.core.api.Assertions.within(1e-9)); // its median over medians would say 3.9
    }

    /**
     * Two variants share a floor that ran once beside each; the host changed speed between the two
     * blocks of a round: each ratio pairs with its own block's floor, where pairing by round could
     * not tell which floor trial to use.
     */
    @Test
    void aRatioPairsWithTheFloorRunBesideItInItsBlock() {
        final Result floor = new Result("roundtrip", "floor-spin", "floor", "floor-spin");
        final Result ipi = new Result("roundtrip", "ipi-spin", "ipi4j", "floor-spin");
        final Result call = new Result("roundtrip", "call-spin", "ipi4j", "floor-spin");
        int block = 0;
        for (int round = 0; round < 3; round++) {
            for (final Result v : List.of(ipi, call)) {
                final double speed = v == ipi ? 1 : 4; // every call-spin block fell in a slow regime
                final double ratio = v == ipi ? 1.2 : 2.0;
                floor.addRepeat(Map.of("paced_p50_ns", 100 * speed, "round", (double) round, "block", (double) block));
                v.addRepeat(Map.of("paced_p50_ns", 100 * speed * ratio, "round", (double) round, "block", (double) block));
                block++;
            }
        }
        assertThat(Report.perRound(ipi, "paced_p50_ns", floor, "paced_p50_ns")).isCloseTo(1.2,
            org.assertj.core.api.Assertions.within(1e-9));
        assertThat(Report.perRound(call, "paced_p50_ns", floor, "paced_p50_ns")).isCloseTo(2.0,
            org.assertj.core.api.Assertions.within(1e-9));
    }

    /** Trials of a figure at {@code ratio} times its reference in every round (a little scatter), for the floors part. */
    private static void trials(final List<Trials.Trial> out, final String variant, final String floor, final double p50,
                               final int rounds) {
        for (int round = 1; round <= rounds; round++) {
            out.add(new Trials.Trial(round, variant, floor, p50 * (1 + 0.01 * (round % 3)), 1000, false));
        }
    }

    @Test
    void theFloorsSectionFlagsABrokenFloorGivesThePeerRatioAndNamesARefusedCall() {
        final List<Trials.Trial> t = new ArrayList<>();
        trials(t, "floor-spin", null, 200, 6);
        trials(t, "floor-park", null, 20_000, 6);
        trials(t, "ipi-spin", "floor-spin", 300, 6);
        trials(t, "ipi-park", "floor-park", 10_000, 6); // beats its floor in every round: a broken floor
        trials(t, "host-ipi", "floor-spin", 2000, 6);
        final Result r = new Result(FloorsPart.NAME, FloorsPart.NAME, "host", null);
        final List<Map<String, Object>> comparisons = new ArrayList<>();
        for (final Trials.Comparison c : Trials.compare(t, 1)) {
            comparisons.add(Map.of("variant", c.variant(), "against", c.floor(), "kind", "floor", "p50_ns", c.p50Nanos(),
                "ratio", c.ratio(), "ci_low", c.low(), "ci_high", c.high(), "rounds", c.rounds(), "broken_floor",
                c.brokenFloor()));
        }
        for (final Trials.Comparison c : Trials.compareWith(t, "host-ipi", 1, "ipi-spin", "ipi-park")) {
            comparisons.add(Map.of("variant", c.variant(), "against", c.floor(), "kind", "peer", "ratio", c.ratio(),
                "ci_low", c.low(), "ci_high", c.high(), "rounds", c.rounds(), "broken_floor", false));
        }
        r.info().put("comparisons", comparisons);
        r.info().put("refused", Map.of("host-shootdown", "mmap failed: errno 1 (EPERM)"));
        r.info().put("host_interrupts_per_op", List.of(Map.of("variant", "ipi-park", "RES", 1.02, "CAL", 0.0, "TLB", 0.0,
            "LOC", -0.0001)));
        final String md = new Report(Context.of(Map.of("commit", "x")), List.of(r), List.of(), "t").markdown();
        final Map<String, String> rows = new java.util.HashMap<>();
        md.lines().filter(l -> l.startsWith("| ")).forEach(l -> rows.put(l.split("\\|")[1].trim(), l));
        assertThat(rows.get("ipi-spin")).contains("floor-spin", "| 1.5", "host-ipi", "| 0.15", "| n/a |")
            .doesNotContain("BROKEN");
        assertThat(rows.get("ipi-park")).contains("BROKEN FLOOR 0.5", "| 1.020 | 0.000 | 0.000 | 0.000 |");
        assertThat(rows.get("host-ipi")).contains("(the real one)", "| 10");
        assertThat(rows.get("host-shootdown")).contains("not measured: the host refuses it: mmap failed: errno 1 (EPERM)");
        assertThat(rows).doesNotContainKey("shootdown-spin"); // not run: no row
        // Every column of the section is defined under it.
        for (final String column : FloorsPart.HEADER) {
            final String name = column.replace(" (median of rounds)", "").replace(" [95% CI]", "");
            assertThat(FloorsPart.COLUMNS).as(column).contains(name.endsWith("/op") ? name : "*" + name + "*");
        }
        assertThat(md).contains(FloorsPart.COLUMNS);
    }

    @Test
    void theMatrixSectionShowsEveryPairTheTopologyTheHypervisorAndWhatTheCapLeftOut() {
        final double nan = Double.NaN;
        final CoreToCore.Matrix m = new CoreToCore.Matrix(new double[][] {{nan, 40, 90}, {40, nan, nan}, {90, nan, nan}},
            new boolean[][] {{false, true, false}, {true, false, false}, {false, false, false}}, true);
        final Result r = MatrixPart.result(m, java.time.Duration.ofSeconds(20));
        // Through results.json and back, as lab compare and a later rendering read it.
        final Result back = Result.fromMap(castMap(Json.parse(Json.write(r.toMap()))));
        final String md = new Report(Context.of(Map.of("commit", "x")), List.of(back), List.of(), "t").markdown();
        assertThat(md).contains("| cpu 0 | - | 40 ns | 90 ns |", "| cpu 1 | 40 ns | - | not measured |",
            "| 2 of 3 (time cap of 20 s) |", "yes (the CPU flags say so", "| 0-2 |", MatrixPart.COLUMNS,
            MatrixPart.IMPLIED_COLUMNS);
        assertThat(back.info().get("topology")).isEqualTo(CoreToCore.topology(m).toString());
    }

    @Test
    void aBigHostsHeatMapHasACellPerPairAndSaysWhichPairsTheCapLeftOut() {
        final int n = 64;
        final double[][] ns = new double[n][n];
        final boolean[][] pinned = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                // CPU 0's pairs measured first; the cap ran out before the rest
                ns[i][j] = i == j || (i > 0 && j > 0) ? Double.NaN : 30 + Math.max(i, j);
                pinned[i][j] = true;
            }
        }
        final String svg = Svg.heatMap(MatrixPart.result(new CoreToCore.Matrix(ns, pinned, false),
            java.time.Duration.ofSeconds(20)));
        assertThat(svg.split("<rect class=\"cell\"", -1)).hasSize(n * n + 1);
        assertThat(svg).contains("cpu 0 to cpu 63: 93 ns one way", "cpu 5 to cpu 7: not measured (time cap)",
            "cpu 9 to cpu 9: the same CPU");
        assertThat(svg).doesNotContain("class=\"value\""); // 14 px cells: the values are in the tooltips only
        final String small = Svg.heatMap(MatrixPart.result(new CoreToCore.Matrix(new double[][] {{Double.NaN, 41},
            {41, Double.NaN}}, new boolean[][] {{false, true}, {true, false}}, false), java.time.Duration.ofSeconds(20)));
        assertThat(small).contains("<text class=\"value\"", ">41</text>");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(final Object o) {
        return (Map<String, Object>) o;
    }
}
