package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One figure of the lab: a round-trip variant, a cross-core call shape on n cores, a shootdown on
 * n cores, a storm strategy. Holds every repeat's metrics (times in nanoseconds, their names end
 * in {@code _ns}), descriptive facts ({@link #info}) and latency distributions, or the error that
 * stopped it. Summaries across repeats are the median, the minimum and the maximum.
 *
 * <p>Not thread-safe: built by one measuring thread, then only read.
 */
public final class Result {
    private final String part;
    private final String name;
    private final String family;
    private final String floor;
    private final List<Map<String, Double>> repeats = new ArrayList<>();
    private final Map<String, Object> info = new LinkedHashMap<>();
    private final Map<String, List<double[]>> distributions = new LinkedHashMap<>();
    private String error;

    /**
     * A result with no repeat yet.
     *
     * @param part the lab part: roundtrip, smp, shootdown or storm
     * @param name the figure's name, unique in a run
     * @param family floor, ipi4j or peer
     * @param floor the name of the floor it is compared with, or null
     */
    public Result(final String part, final String name, final String family, final String floor) {
        this.part = part;
        this.name = name;
        this.family = family;
        this.floor = floor;
    }

    /** {@return the lab part} */
    public String part() {
        return part;
    }

    /** {@return the figure's name} */
    public String name() {
        return name;
    }

    /** {@return floor, ipi4j or peer} */
    public String family() {
        return family;
    }

    /** {@return the name of the floor this is compared with, or null} */
    public String floor() {
        return floor;
    }

    /** {@return each repeat's metrics, in order} */
    public List<Map<String, Double>> repeats() {
        return repeats;
    }

    /** {@return facts about the figure: cores, shape, pinning, oversubscription, achieved pace} */
    public Map<String, Object> info() {
        return info;
    }

    /** {@return latency distributions by name: rows of (percentile 0-100, nanoseconds)} */
    public Map<String, List<double[]>> distributions() {
        return distributions;
    }

    /** {@return why this figure failed, or null} */
    public String error() {
        return error;
    }

    /** @param why why the figure failed */
    void fail(final String why) {
        this.error = why;
    }

    /** @param metrics one repeat's metrics */
    void addRepeat(final Map<String, Double> metrics) {
        repeats.add(metrics);
    }

    /**
     * {@return the median of {@code metric} across repeats, NaN if absent}
     *
     * @param metric the metric's name
     */
    public double median(final String metric) {
        final double[] v = values(metric);
        if (v.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** {@return the smallest value of {@code metric} across repeats, NaN if absent} @param metric the metric */
    public double min(final String metric) {
        return Arrays.stream(values(metric)).min().orElse(Double.NaN);
    }

    /** {@return the largest value of {@code metric} across repeats, NaN if absent} @param metric the metric */
    public double max(final String metric) {
        return Arrays.stream(values(metric)).max().orElse(Double.NaN);
    }

    /**
     * {@return (max - min) / median of {@code metric}: the run-to-run spread, 0 for one repeat}
     *
     * @param metric the metric's name
     */
    public double spread(final String metric) {
        final double m = median(metric);
        return m > 0 ? (max(metric) - min(metric)) / m : 0;
    }

    private double[] values(final String metric) {
        return repeats.stream().map(r -> r.get(metric)).filter(v -> v != null && !v.isNaN())
            .mapToDouble(Double::doubleValue).toArray();
    }

    /** {@return this result as JSON-ready maps and lists} */
    public Map<String, Object> toMap() {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("part", part);
        m.put("name", name);
        m.put("family", family);
        m.put("floor", floor);
        m.put("info", info);
        m.put("repeats", repeats);
        final Map<String, Object> summary = new LinkedHashMap<>();
        if (!repeats.isEmpty()) {
            for (final String metric : repeats.get(0).keySet()) {
                summary.put(metric, Map.of("median", median(metric), "min", min(metric), "max", max(metric)));
            }
        }
        m.put("summary", summary);
        final Map<String, Object> d = new LinkedHashMap<>();
        distributions.forEach((k, rows) -> {
            final List<Object> l = new ArrayList<>();
            rows.forEach(r -> l.add(List.of(r[0], r[1])));
            d.put(k, l);
        });
        m.put("distributions", d);
        m.put("error", error);
        return m;
    }

    /**
     * {@return the result a {@link #toMap()} map describes}
     *
     * @param m a map read from a results file
     */
    @SuppressWarnings("unchecked")
    public static Result fromMap(final Map<String, Object> m) {
        final Result r = new Result((String) m.get("part"), (String) m.get("name"), (String) m.get("family"),
            (String) m.get("floor"));
        final Object info = m.get("info");
        if (info instanceof Map<?, ?> i) {
            r.info.putAll((Map<String, Object>) i);
        }
        final Object reps = m.get("repeats");
        if (reps instanceof List<?> l) {
            for (final Object o : l) {
                final Map<String, Double> rep = new LinkedHashMap<>();
                ((Map<String, Object>) o).forEach((k, v) -> rep.put(k, v == null ? Double.NaN : ((Number) v).doubleValue()));
                r.repeats.add(rep);
            }
        }
        final Object dist = m.get("distributions");
        if (dist instanceof Map<?, ?> d) {
            ((Map<String, Object>) d).forEach((k, v) -> {
                final List<double[]> rows = new ArrayList<>();
                for (final Object row : (List<Object>) v) {
                    final List<Object> pair = (List<Object>) row;
                    rows.add(new double[] {((Number) pair.get(0)).doubleValue(), ((Number) pair.get(1)).doubleValue()});
                }
                r.distributions.put(k, rows);
            });
        }
        r.error = (String) m.get("error");
        return r;
    }
}
