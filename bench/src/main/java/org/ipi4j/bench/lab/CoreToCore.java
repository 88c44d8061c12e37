package org.ipi4j.bench.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import net.openhft.affinity.Affinity;
import org.ipi4j.interrupts.Topology;

/**
 * The host's core-to-core latency: a cache line passed back and forth between two threads pinned
 * to two host CPUs, for every pair, as the one-way time (half a round trip). What an emulated IPI
 * between two ipi4j cores on those CPUs can never beat, and the distances a {@link Topology} for
 * {@code Machine.Builder.topology} can be read from ({@link #topology}).
 *
 * <p>Each pair runs {@value #BATCHES} batches of {@value #BATCH} round trips; its figure is the
 * median batch. Pinning goes through OpenHFT affinity; a pair whose threads could not be pinned
 * where asked is reported as such (its figure is then not that pair's). Not thread-safe; it uses
 * two of the host's CPUs while it runs.
 */
final class CoreToCore {
    static final int BATCH = 1000;
    static final int BATCHES = 41;
    /** Latencies within this factor of the nearest pair's count as one distance. */
    static final double SAME_DISTANCE = 1.5;

    /** The matrix: one-way nanoseconds between host CPUs ({@code NaN} on the diagonal), and whether each pair was pinned. */
    record Matrix(double[][] oneWayNanos, boolean[][] pinned, boolean hypervisor) {
        int cpus() {
            return oneWayNanos.length;
        }
    }

    private CoreToCore() {
    }

    /** Measures every pair of the host's CPUs. */
    static Matrix measure() throws InterruptedException {
        return measure(Duration.ofDays(1));
    }

    /**
     * Measures the pairs of the host's CPUs in order (all of CPU 0's first, which is what
     * {@link #topology} reads) until {@code budget} has passed; the pairs left are {@code NaN}
     * and not pinned. A pair takes about 50 ms on a 2-CPU guest; a 64-CPU host has 2,016 pairs.
     */
    static Matrix measure(final Duration budget) throws InterruptedException {
        final long deadline = System.nanoTime() + budget.toNanos();
        final int n = Runtime.getRuntime().availableProcessors();
        final double[][] m = new double[n][n];
        final boolean[][] pinned = new boolean[n][n];
        for (final double[] row : m) {
            Arrays.fill(row, Double.NaN);
        }
        for (int a = 0; a < n; a++) {
            for (int b = a + 1; b < n && System.nanoTime() - deadline < 0; b++) {
                final boolean[] ok = new boolean[1];
                m[a][b] = m[b][a] = pair(a, b, ok);
                pinned[a][b] = pinned[b][a] = ok[0];
            }
        }
        return new Matrix(m, pinned, hypervisor());
    }

    /** One pair's one-way latency; {@code ok[0]} tells whether both threads ran where they were pinned. */
    private static double pair(final int a, final int b, final boolean[] ok) throws InterruptedException {
        final Line line = new Line();
        final CountDownLatch ready = new CountDownLatch(1);
        final boolean[] responderPinned = new boolean[1];
        final Thread responder = new Thread(() -> {
            responderPinned[0] = pin(b);
            ready.countDown();
            long seen = 0;
            while (seen >= 0) {
                final long v = line.ping;
                if (v != seen) {
                    seen = v;
                    line.pong = v; // partner: the caller's spin on pong
                }
                Thread.onSpinWait();
            }
        }, "core-to-core-" + b);
        responder.setDaemon(true);
        final double[] result = new double[1];
        final boolean[] callerPinned = new boolean[1];
        final Thread caller = new Thread(() -> {
            callerPinned[0] = pin(a);
            try {
                ready.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            final double[] batches = new double[BATCHES];
            long seq = 0;
            for (int i = -5; i < BATCHES; i++) { // five batches warm up
                final long t = System.nanoTime();
                for (int j = 0; j < BATCH; j++) {
                    line.ping = ++seq;
                    while (line.pong != seq) {
                        Thread.onSpinWait();
                    }
                }
                if (i >= 0) {
                    batches[i] = (System.nanoTime() - t) / (2.0 * BATCH);
                }
            }
            line.ping = -1; // stops the responder
            Arrays.sort(batches);
            result[0] = batches[BATCHES / 2];
        }, "core-to-core-" + a);
        responder.start();
        caller.start();
        caller.join();
        responder.join(10_000);
        ok[0] = callerPinned[0] && responderPinned[0];
        return result[0];
    }

    /** Pins the calling thread to {@code cpu}; {@return true if it now runs there} */
    static boolean pin(final int cpu) {
        try {
            final BitSet set = new BitSet();
            set.set(cpu);
            Affinity.setAffinity(set);
            return Affinity.getAffinity().equals(set);
        } catch (RuntimeException | LinkageError e) {
            return false; // no pinning here: the pair is measured unpinned and reported as such
        }
    }

    /** {@return true if the CPU says a hypervisor runs it (the {@code hypervisor} flag of /proc/cpuinfo)} */
    static boolean hypervisor() {
        try {
            return cpuinfoSaysHypervisor(Files.readString(Path.of("/proc/cpuinfo")));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static boolean cpuinfoSaysHypervisor(final String cpuinfo) {
        for (final String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags") && Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+"))
                .contains("hypervisor")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The topology the matrix implies, for host CPUs numbered as {@link Topology} numbers cores
     * (consecutive ids share a complex): a complex is the run of CPUs from 0 whose latency to CPU 0
     * is within {@value #SAME_DISTANCE}x of the nearest pair's; a socket is the run of complexes
     * within that factor of the nearest complex-to-complex latency. A host whose pairs are all
     * alike is one complex.
     */
    static Topology topology(final Matrix m) {
        final int n = m.cpus();
        if (n < 2) {
            return Topology.uniform();
        }
        double nearest = Double.MAX_VALUE;
        for (int b = 1; b < n; b++) {
            if (!Double.isNaN(m.oneWayNanos()[0][b])) { // a pair the time cap left out is no distance
                nearest = Math.min(nearest, m.oneWayNanos()[0][b]);
            }
        }
        int complex = 1;
        while (complex < n && m.oneWayNanos()[0][complex] <= nearest * SAME_DISTANCE) {
            complex++;
        }
        if (complex >= n) {
            return Topology.of(n, 1);
        }
        final double nextLevel = m.oneWayNanos()[0][complex];
        int sockets = 1;
        for (int c = 2 * complex - 1; c < n; c += complex) {
            if (m.oneWayNanos()[0][Math.min(c, n - 1)] <= nextLevel * SAME_DISTANCE) {
                sockets++;
            } else {
                break;
            }
        }
        return Topology.of(complex, sockets);
    }

    /** The matrix as a Markdown table, with the topology it implies and what a reader needs to trust it. */
    static String table(final Matrix m) {
        final StringBuilder b = new StringBuilder("Core-to-core latency, one way (half a cache-line round trip between two "
            + "threads pinned to the two host CPUs; median of " + BATCHES + " batches of " + BATCH + "):\n\n| from \\ to |");
        for (int j = 0; j < m.cpus(); j++) {
            b.append(" cpu ").append(j).append(" |");
        }
        b.append("\n|---|").append("---:|".repeat(m.cpus())).append('\n');
        final List<String> unpinned = new ArrayList<>();
        int unmeasured = 0;
        for (int i = 0; i < m.cpus(); i++) {
            b.append("| cpu ").append(i).append(" |");
            for (int j = 0; j < m.cpus(); j++) {
                b.append(i == j ? " - |" : cell(m.oneWayNanos()[i][j]));
                if (i < j && Double.isNaN(m.oneWayNanos()[i][j])) {
                    unmeasured++;
                } else if (i < j && !m.pinned()[i][j]) {
                    unpinned.add(i + "-" + j);
                }
            }
            b.append('\n');
        }
        b.append('\n').append("Implied topology: ").append(topology(m)).append(" (pairs within ").append(SAME_DISTANCE)
            .append("x of the nearest count as one distance). Hypervisor: ")
            .append(m.hypervisor() ? "yes (the CPU flags say so: these are vCPUs, and the host may move them)" : "no")
            .append(".\n");
        if (!unpinned.isEmpty()) {
            b.append("NOT PINNED (figures are not those pairs'): ").append(unpinned).append('\n');
        }
        if (unmeasured > 0) {
            b.append("NOT MEASURED (the time cap ran out): ").append(unmeasured).append(" pairs\n");
        }
        return b.toString();
    }

    /** {@return one matrix cell: whole nanoseconds, or "not measured" for a pair the time cap left out} */
    static String cell(final double oneWayNanos) {
        return Double.isNaN(oneWayNanos) ? " not measured |" : String.format(Locale.ROOT, " %.0f ns |", oneWayNanos);
    }

    /** The shared line: two volatile words on a line of their own, padded against the neighbours. */
    static final class Line {
        long p0, p1, p2, p3, p4, p5, p6, p7;
        volatile long ping;
        volatile long pong;
        long q0, q1, q2, q3, q4, q5, q6, q7;
    }
}
