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
}
