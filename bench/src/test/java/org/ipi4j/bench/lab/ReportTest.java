package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

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
}
