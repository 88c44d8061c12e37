package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;

/**
 * Where the parts hand every repeat's histograms: with {@code --hlog}, one HdrHistogram log per
 * figure ({@code <dir>/<figure>.hlog}), one interval histogram per repeat and kind, tagged
 * {@code <kind>-<repeat>} (for example {@code paced-0}); read them with HdrHistogram's
 * {@code HistogramLogReader} or its log processor. Without it, nothing is kept.
 */
final class Sink implements AutoCloseable {
    private final Path dir;
    private final Map<String, Log> logs = new LinkedHashMap<>();

    private record Log(PrintStream out, HistogramLogWriter writer) {
    }

    /** @param dir where the logs go, or null for none */
    Sink(final Path dir) throws IOException {
        this.dir = dir;
        if (dir != null) {
            Files.createDirectories(dir);
        }
    }

    static String fileName(final String figure) {
        return figure.replaceAll("[^A-Za-z0-9.]+", "-").replaceAll("(^-|-$)", "") + ".hlog";
    }

    void histogram(final String figure, final int repeat, final String kind, final Histogram h) throws IOException {
        if (dir == null) {
            return;
        }
        Log log = logs.get(figure);
        if (log == null) {
            final PrintStream out = new PrintStream(Files.newOutputStream(dir.resolve(fileName(figure))), true, "UTF-8");
            final HistogramLogWriter w = new HistogramLogWriter(out);
            w.outputComment("ipi4j lab: " + figure + "; values in nanoseconds; tag <kind>-<repeat>");
            w.outputLogFormatVersion();
            w.outputStartTime(System.currentTimeMillis());
            w.outputLegend();
            log = new Log(out, w);
            logs.put(figure, log);
        }
        final Histogram copy = h.copy();
        copy.setTag(kind + "-" + repeat);
        final long now = System.currentTimeMillis();
        copy.setStartTimeStamp(now);
        copy.setEndTimeStamp(now);
        log.writer().outputIntervalHistogram(copy);
    }

    @Override
    public void close() {
        logs.values().forEach(l -> l.out().close());
    }
}
