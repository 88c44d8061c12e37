package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.List;

import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.HistogramIterationValue;

/** A latency distribution as HdrHistogram prints it: (percentile, value) rows, tails refined. */
final class Distribution {
    private Distribution() {
    }

    /** {@return rows of (percentile 0-100, nanoseconds), from HdrHistogram's percentile iteration} */
    static List<double[]> of(final AbstractHistogram h) {
        final List<double[]> rows = new ArrayList<>();
        if (h.getTotalCount() == 0) {
            return rows;
        }
        double lastPercentile = -1;
        for (final HistogramIterationValue v : h.percentiles(5)) {
            final double p = v.getPercentileLevelIteratedTo();
            if (p != lastPercentile) {
                rows.add(new double[] {p, h.highestEquivalentValue(v.getValueIteratedTo())});
                lastPercentile = p;
            }
        }
        return rows;
    }
}
