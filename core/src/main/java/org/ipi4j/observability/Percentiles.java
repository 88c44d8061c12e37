package org.ipi4j.observability;

import org.HdrHistogram.AbstractHistogram;

/**
 * Percentiles of a latency histogram, in nanoseconds. Immutable.
 *
 * @param count samples
 * @param p50   median
 * @param p99   99th percentile
 * @param p999  99.9th percentile
 * @param max   largest sample
 */
public record Percentiles(long count, long p50, long p99, long p999, long max) {
    /**
     * Reads the percentiles of {@code h} (which must not be written meanwhile, or be concurrent).
     *
     * @param h the histogram
     * @return the percentiles, in nanoseconds
     */
    public static Percentiles of(final AbstractHistogram h) {
        if (h.getTotalCount() == 0) {
            return new Percentiles(0, 0, 0, 0, 0);
        }
        return new Percentiles(h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(99),
            h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    @Override
    public String toString() {
        return String.format("n=%d p50=%.1fus p99=%.1fus p99.9=%.1fus max=%.1fus",
            count, p50 / 1e3, p99 / 1e3, p999 / 1e3, max / 1e3);
    }
}
