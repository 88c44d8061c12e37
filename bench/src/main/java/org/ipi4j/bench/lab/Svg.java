package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * The report's charts that need no script, written as SVG by hand: the core-to-core heat map
 * ({@link MatrixPart}) and the floors' ratios with their intervals ({@link FloorsPart}). Each reads
 * its result's {@link Result#info()} alone, so a page rendered from {@code results.json} draws the
 * same. Every cell and row carries its figure in {@code data-*} attributes and a {@code <title>},
 * so a browser (and {@code HtmlRenderTest}) can read what was drawn. Stateless; thread-safe.
 */
final class Svg {
    private static final String FONT = "font-family=\"sans-serif\" font-size=\"11\"";

    private Svg() {
    }

    /**
     * The matrix as an n x n grid of cells coloured by one-way nanoseconds (log scale from the
     * fastest pair, pale, to the slowest, dark), the value written in each cell where it fits and
     * in its tooltip always; the diagonal is grey, a pair the time cap left out white.
     */
    static String heatMap(final Result r) {
        final double[][] m = MatrixPart.oneWay(r);
        final int n = m.length;
        double min = Double.MAX_VALUE;
        double max = 0;
        for (final double[] row : m) {
            for (final double v : row) {
                if (!Double.isNaN(v)) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
        }
        final int cell = Math.max(14, Math.min(60, 720 / Math.max(1, n)));
        final boolean values = cell >= 30; // "1234" at 11 px needs about 28 px
        final int left = 50;
        final int top = 30;
        final int width = left + n * cell + 160;
        final int height = top + n * cell + 20;
        final StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg id=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            + "height=\"%d\" role=\"img\" aria-label=\"core-to-core latency heat map, one way, ns\" %s>\n", width, height,
            FONT));
        // Axis labels for every CPU where they fit, else every k-th ("cpu 10" is about 35 px wide, 11 px high).
        final int columnStep = (cell + 39) / cell;
        final int rowStep = (cell + 13) / cell;
        for (int i = 0; i < n; i++) {
            if (i % rowStep == 0) {
                b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" "
                    + "dominant-baseline=\"middle\">cpu %d</text>\n", left - 6, top + i * cell + cell / 2, i));
            }
            if (i % columnStep == 0) {
                b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">cpu %d</text>\n",
                    left + i * cell + cell / 2, top - 8, i));
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                final double v = m[i][j];
                final double t = Double.isNaN(v) || max <= min ? 0 : Math.log(v / min) / Math.log(max / min);
                final String fill = i == j ? "#e6e6e6" : Double.isNaN(v) ? "#ffffff" : color(t);
                final String text = i == j ? "-" : Double.isNaN(v) ? "n/m" : String.format(Locale.ROOT, "%.0f", v);
                final int x = left + j * cell;
                final int y = top + i * cell;
                b.append(String.format(Locale.ROOT, "<rect class=\"cell\" data-from=\"%d\" data-to=\"%d\" data-ns=\"%s\" "
                    + "x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>cpu %d to cpu %d: "
                    + "%s</title></rect>\n", i, j, i == j || Double.isNaN(v) ? "" : text, x, y, cell, cell, fill, i, j,
                    i == j ? "the same CPU" : Double.isNaN(v) ? "not measured (time cap)" : text + " ns one way"));
                if (values) {
                    b.append(String.format(Locale.ROOT, "<text class=\"value\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                        + "dominant-baseline=\"middle\" fill=\"%s\">%s</text>\n", x + cell / 2, y + cell / 2,
                        t > 0.6 ? "#fff" : "#222", text));
                }
            }
        }
        // The scale: pale is the fastest pair, dark the slowest.
        final int sx = left + n * cell + 20;
        for (int k = 0; k < 10; k++) {
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"%d\" fill=\"%s\"/>\n", sx,
                top + k * (n * cell) / 10, (n * cell + 9) / 10, color(k / 9.0)));
        }
        if (max > 0) {
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"hanging\">%.0f ns</text>\n",
                sx + 20, top, min));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%.0f ns</text>\n", sx + 20, top + n * cell, max));
        }
        return b.append("</svg>\n").toString();
    }

    /** Pale yellow (0) through orange to dark red (1). */
    static String color(final double t) {
        final double[][] stops = {{255, 255, 204}, {253, 141, 60}, {128, 0, 38}};
        final double u = Math.max(0, Math.min(1, t)) * (stops.length - 1);
        final int k = Math.min(stops.length - 2, (int) u);
        final double f = u - k;
        final int[] c = new int[3];
        for (int i = 0; i < 3; i++) {
            c[i] = (int) Math.round(stops[k][i] + f * (stops[k + 1][i] - stops[k][i]));
        }
        return String.format(Locale.ROOT, "#%02x%02x%02x", c[0], c[1], c[2]);
    }

    /**
     * The floors' ratios: a row per comparison (against the floor, then against the real peer),
     * the median ratio as a dot and its 95% interval as a whisker on a log axis, with the line at
     * 1; a broken floor is drawn red and says so.
     */
    static String ratios(final Result r) {
        final List<Map<String, Object>> rows = new ArrayList<>();
        for (final String kind : new String[] {"floor", "peer"}) {
            for (final Map<String, Object> c : FloorsPart.maps(r.info().get("comparisons"))) {
                if (kind.equals(c.get("kind")) && FloorsPart.num(c, "ratio") > 0) {
                    rows.add(c);
                }
            }
        }
        double lo = 1;
        double hi = 1;
        for (final Map<String, Object> c : rows) {
            lo = Math.min(lo, FloorsPart.num(c, "ci_low"));
            hi = Math.max(hi, FloorsPart.num(c, "ci_high"));
        }
        lo = Math.pow(10, Math.floor(Math.log10(lo > 0 ? lo : 1) - 0.05));
        hi = Math.pow(10, Math.ceil(Math.log10(hi) + 0.05));
        final int left = 260;
        final int plot = 600;
        final int rowHeight = 22;
        final int top = 20;
        final int height = top + rows.size() * rowHeight + 40;
        final double flo = lo;
        final double span = Math.log(hi / lo);
        final DoubleUnaryOperator x = v -> left + plot * Math.log(v / flo) / span;
        final StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "<svg id=\"floor-ratios\" "
            + "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"ratios to the "
            + "floors and the real peers, 95%% intervals\" %s>\n", left + plot + 200, height, FONT));
        final int bottom = top + rows.size() * rowHeight;
        for (int e = (int) Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) {
            final double d = Math.pow(10, e);
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"%s/>\n"
                + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%sx</text>\n", x.applyAsDouble(d), top - 5,
                x.applyAsDouble(d), bottom, e == 0 ? "#444" : "#ddd",
                e == 0 ? " stroke-dasharray=\"4 3\"" : "", x.applyAsDouble(d), bottom + 16,
                e < 0 ? "0." + "0".repeat(-e - 1) + "1" : String.format(Locale.ROOT, "%.0f", d)));
        }
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">ratio (log scale): median "
            + "of per-block ratios, whisker = 95%% bootstrap interval</text>\n", left + plot / 2, bottom + 34));
        for (int i = 0; i < rows.size(); i++) {
            final Map<String, Object> c = rows.get(i);
            final boolean broken = Boolean.TRUE.equals(c.get("broken_floor"));
            final String stroke = broken ? "#d62728" : "peer".equals(c.get("kind")) ? "#1f77b4" : "#555";
            final double y = top + i * rowHeight + rowHeight / 2.0;
            b.append(String.format(Locale.ROOT, "<g class=\"ratio-row\" data-variant=\"%s\" data-against=\"%s\" "
                    + "data-kind=\"%s\" data-ratio=\"%.4g\" data-broken=\"%s\">", Html.escape(String.valueOf(c.get("variant"))),
                Html.escape(String.valueOf(c.get("against"))), c.get("kind"), FloorsPart.num(c, "ratio"), broken));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dominant-baseline=\"middle\">"
                + "%s vs %s</text>", left - 8, y, Html.escape(String.valueOf(c.get("variant"))),
                Html.escape(String.valueOf(c.get("against")))));
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                + "stroke-width=\"1.5\"/>", x.applyAsDouble(FloorsPart.num(c, "ci_low")), y,
                x.applyAsDouble(FloorsPart.num(c, "ci_high")), y, stroke));
            b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s</title>"
                + "</circle>", x.applyAsDouble(FloorsPart.num(c, "ratio")), y, stroke, Html.escape(FloorsPart.ratio(c))));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" dominant-baseline=\"middle\" fill=\"%s\">%s"
                + "</text></g>\n", left + plot + 10, y, stroke, Html.escape(FloorsPart.ratio(c))));
        }
        return b.append("</svg>\n").toString();
    }
}
