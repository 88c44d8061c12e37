package org.ipi4j.sim;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import org.ipi4j.interrupts.Topology;

/**
 * A {@link CostModel} in a {@link Properties} text file: the format {@link CostModel}'s class
 * comment lists. Every figure key must be there (a missing one is refused rather than defaulted,
 * so a file always says everything the model it reads back assumes), and no other key may be (a
 * misspelt one would otherwise be ignored without a word). Stateless.
 */
final class CostModelFile {
    static final String TOPOLOGY = "topology";
    static final String HOST_CPUS = "hostCpus";
    static final String PRICE = "price.";
    static final String PROVENANCE = "provenance.";
    /** The figures in nanoseconds, in the order {@link #figures} lists them. */
    static final List<String> FIGURES = List.of("send", "latency.sameComplex", "latency.sameSocket",
        "latency.crossSocket", "wake", "interrupt", "flush.page", "flush.all", "spin", "contextSwitch");
    /** Named kinds the figure keys price already: no {@code price.} key for them. */
    private static final Set<String> OWN_KINDS = Set.of(CostModel.SEND, CostModel.INTERRUPT, CostModel.FLUSH_PAGE,
        CostModel.FLUSH_ALL);

    private CostModelFile() {
    }

    private static long[] figures(final CostModel m) {
        return new long[] {m.send(), m.hop(Topology.SAME_COMPLEX), m.hop(Topology.SAME_SOCKET),
            m.hop(Topology.CROSS_SOCKET), m.wake(), m.interrupt(), m.flushPage(), m.flushAll(), m.spin(),
            m.contextSwitch()};
    }

    static void write(final CostModel m, final Path file) throws IOException {
        final Properties p = new Properties();
        final long[] f = figures(m);
        for (int i = 0; i < f.length; i++) {
            p.setProperty(FIGURES.get(i), Long.toString(f[i]));
        }
        p.setProperty(HOST_CPUS, Integer.toString(m.hostCpus()));
        p.setProperty(TOPOLOGY, topology(m.topology()));
        m.prices().forEach((name, nanos) -> {
            if (!OWN_KINDS.contains(name)) {
                p.setProperty(PRICE + name, Long.toString(nanos));
            }
        });
        m.provenance().forEach((key, value) -> p.setProperty(PROVENANCE + key, value));
        // Properties.store writes one line per key (it escapes line breaks) in hash order, after a
        // date comment: drop the date and sort the lines, so the same model gives the same bytes.
        final StringWriter out = new StringWriter();
        p.store(out, null);
        final List<String> lines = new ArrayList<>();
        for (final String line : out.toString().split("\n")) {
            final String l = line.stripTrailing();
            if (!l.isEmpty() && !l.startsWith("#")) {
                lines.add(l);
            }
        }
        lines.sort(null);
        final StringBuilder text = new StringBuilder("# ipi4j cost model: virtual nanoseconds (hostCpus: a count)\n");
        lines.forEach(l -> text.append(l).append('\n'));
        Files.writeString(file, text, StandardCharsets.ISO_8859_1); // Properties' own encoding: non-Latin-1 is escaped
    }

    static CostModel read(final Path file) throws IOException {
        final Properties p = new Properties() {
            private static final long serialVersionUID = 1L;

            @Override
            public synchronized Object put(final Object key, final Object value) {
                // Properties.load keeps the last of a key given twice without a word: refuse it instead.
                if (containsKey(key)) {
                    throw new IllegalArgumentException("cost model file " + file + ": key '" + key + "' is given twice");
                }
                return super.put(key, value);
            }
        };
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            p.load(in);
        }
        final Map<String, String> keys = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> keys.put(k, p.getProperty(k)));
        final CostModel.Builder b = CostModel.builder();
        final long[] f = new long[FIGURES.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = number(file, keys, FIGURES.get(i));
            if (f[i] < 0 || f[i] > CostModel.MAX_NANOS) { // the builder would refuse it too, but naming its parameter, not the key
                throw new IllegalArgumentException("cost model file " + file + ": key '" + FIGURES.get(i)
                    + "' must be 0 to " + CostModel.MAX_NANOS + " ns, not " + f[i]);
            }
        }
        final int hostCpus = (int) Math.min(Integer.MAX_VALUE, number(file, keys, HOST_CPUS));
        b.latency(f[1], f[2], f[3]); // checked above
        apply(file, "send", () -> b.send(f[0]));
        apply(file, "wake", () -> b.wake(f[4]));
        apply(file, "interrupt", () -> b.interrupt(f[5]));
        apply(file, "flush.page", () -> b.flush(f[6], f[7]));
        apply(file, "spin", () -> b.spin(f[8]));
        apply(file, "contextSwitch", () -> b.contextSwitch(f[9]));
        apply(file, HOST_CPUS, () -> b.hostCpus(hostCpus));
        final String topology = required(file, keys, TOPOLOGY);
        apply(file, TOPOLOGY, () -> b.topology(topology(topology)));
        for (final Map.Entry<String, String> e : keys.entrySet()) {
            final String key = e.getKey();
            if (key.startsWith(PRICE)) {
                final String kind = key.substring(PRICE.length());
                final long nanos = number(file, keys, key);
                apply(file, key, () -> {
                    if (OWN_KINDS.contains(kind)) {
                        throw new IllegalArgumentException("'" + kind + "' has its own key");
                    }
                    b.price(kind, nanos);
                });
            } else if (key.startsWith(PROVENANCE)) {
                apply(file, key, () -> b.provenance(key.substring(PROVENANCE.length()), e.getValue()));
            } else if (!FIGURES.contains(key) && !key.equals(HOST_CPUS) && !key.equals(TOPOLOGY)) {
                throw new IllegalArgumentException("cost model file " + file + ": unknown key '" + key
                    + "' (the keys: " + FIGURES + ", " + HOST_CPUS + ", " + TOPOLOGY + ", " + PRICE + "<name>, "
                    + PROVENANCE + "<key>)");
            }
        }
        return b.build();
    }

    private static String topology(final Topology t) {
        return t.coresPerComplex() == Integer.MAX_VALUE && t.complexesPerSocket() == 1 ? "uniform"
            : t.coresPerComplex() + "x" + t.complexesPerSocket();
    }

    private static Topology topology(final String text) {
        if (text.equals("uniform")) {
            return Topology.uniform();
        }
        final String[] parts = text.split("x", -1);
        if (parts.length != 2) {
            throw new IllegalArgumentException("'" + text + "' is neither 'uniform' nor 'CxS' (cores per complex x "
                + "complexes per socket)");
        }
        try {
            return Topology.of(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not 'CxS' with whole numbers C and S", e);
        }
    }

    private static String required(final Path file, final Map<String, String> keys, final String key) {
        final String v = keys.get(key);
        if (v == null) {
            throw new IllegalArgumentException("cost model file " + file + " has no key '" + key + "'");
        }
        return v.strip();
    }

    private static long number(final Path file, final Map<String, String> keys, final String key) {
        final String v = required(file, keys, key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cost model file " + file + ": key '" + key + "' must be a whole "
                + "number, not '" + v + "'", e);
        }
    }

    /** Runs one builder step; its refusal becomes one that names {@code key} and {@code file}. */
    private static void apply(final Path file, final String key, final Runnable step) {
        try {
            step.run();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cost model file " + file + ": key '" + key + "': " + e.getMessage(), e);
        }
    }
}
