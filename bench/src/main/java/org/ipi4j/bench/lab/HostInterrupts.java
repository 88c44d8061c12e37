package org.ipi4j.bench.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The host's own inter-processor and timer interrupts, as Linux counts them in
 * {@code /proc/interrupts}: what an emulated IPI really costs underneath. Every {@code unpark} of a
 * thread that sleeps on another CPU is a real reschedule IPI ({@code RES}); a cross-CPU function
 * call of the kernel's ({@code membarrier}, for one) is a {@code CAL}; a TLB shootdown of the
 * host's ({@code mprotect} of a page other CPUs touched) a {@code TLB}; the local timer
 * ({@code LOC}) is the background every other count is read against. Counts are summed over the
 * host's CPUs. Where the file does not exist or cannot be read (not Linux, a sandbox), there are
 * no counts, and the report says so rather than printing zeros. Immutable; thread-safe.
 */
final class HostInterrupts {
    /** The kinds read, in the order {@link Counts} holds them. */
    static final String[] KINDS = {"RES", "CAL", "TLB", "LOC"};
    private static final Path FILE = Path.of("/proc/interrupts");

    /** Interrupts by kind ({@link #KINDS}), summed over the host's CPUs. */
    record Counts(long[] byKind) {
        Counts {
            byKind = byKind.clone();
        }

        /** {@return the count of kind {@code i} of {@link #KINDS}} */
        long get(final int i) {
            return byKind[i];
        }

        /** {@return these counts less {@code earlier}'s: what happened between two readings} */
        Counts minus(final Counts earlier) {
            final long[] d = new long[byKind.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = byKind[i] - earlier.byKind[i];
            }
            return new Counts(d);
        }
    }

    private HostInterrupts() {
    }

    /** {@return the counts now, or empty where {@code /proc/interrupts} cannot be read} */
    static Optional<Counts> read() {
        if (!Files.isReadable(FILE)) {
            return Optional.empty();
        }
        try {
            return parse(Files.readString(FILE));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // an unreadable or unexpected file: no counts, not wrong ones
        }
    }

    /**
     * Parses the text of {@code /proc/interrupts}: a header naming the CPUs, then one line per
     * source, {@code NAME: count count ... description}. A line for a kind gives one count per CPU
     * of the header; the description after them is ignored.
     *
     * @param text the file's text
     * @return the counts, or empty if the header or one of {@link #KINDS} is missing
     */
    static Optional<Counts> parse(final String text) {
        final String[] lines = text.split("\n");
        if (lines.length == 0) {
            return Optional.empty();
        }
        final int cpus = lines[0].trim().isEmpty() ? 0 : lines[0].trim().split("\\s+").length;
        if (cpus == 0 || !lines[0].trim().startsWith("CPU")) {
            return Optional.empty();
        }
        final long[] counts = new long[KINDS.length];
        final boolean[] seen = new boolean[KINDS.length];
        for (int l = 1; l < lines.length; l++) {
            final String line = lines[l].trim();
            final int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            final String name = line.substring(0, colon);
            for (int k = 0; k < KINDS.length; k++) {
                if (KINDS[k].equals(name)) {
                    final String[] fields = line.substring(colon + 1).trim().split("\\s+");
                    long sum = 0;
                    for (int c = 0; c < cpus && c < fields.length; c++) {
                        sum += Long.parseLong(fields[c]);
                    }
                    counts[k] = sum;
                    seen[k] = true;
                }
            }
        }
        for (final boolean s : seen) {
            if (!s) {
                return Optional.empty();
            }
        }
        return Optional.of(new Counts(counts));
    }
}
