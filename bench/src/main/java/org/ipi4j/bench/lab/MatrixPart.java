package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The core-to-core matrix as a step of the main job: {@link CoreToCore} measured once, capped at
 * {@link #budget} (a 2-CPU guest needs well under a second; a big host's pairs beyond the cap are
 * left out and counted), kept in a {@link Result} whose {@link Result#info()} holds the matrix, the
 * {@link org.ipi4j.interrupts.Topology} it implies and the hypervisor flag, so {@code results.json}
 * has them and the report renders them from there alone. Stateless; thread-safe.
 */
final class MatrixPart {
    /** The result's part and name. */
    static final String PART = "matrix";
    static final String NAME = "core-to-core";

    /** What the matrix table's cells mean (the report prints it under the table). */
    static final String COLUMNS = "Each cell: the one-way latency from the row's host CPU to the column's, half a "
        + "cache-line round trip between two threads pinned to the two CPUs (OpenHFT affinity), the median of "
        + CoreToCore.BATCHES + " batches of " + CoreToCore.BATCH + " round trips; \"not measured\" where the time cap "
        + "ran out before the pair's turn.";
    /** What the implied table's columns mean. */
    static final String IMPLIED_COLUMNS = "*implied topology*: for Machine.Builder.topology, host CPUs numbered as "
        + "Topology numbers cores: a complex is the run of CPUs from cpu 0 within " + CoreToCore.SAME_DISTANCE + "x of "
        + "the nearest pair's latency, a socket the run of complexes within " + CoreToCore.SAME_DISTANCE + "x of the "
        + "nearest complex-to-complex latency. *hypervisor*: the hypervisor flag of /proc/cpuinfo (vCPUs, which the "
        + "host may move, so the matrix is the guest's view). *pairs measured*: pairs measured of all pairs, within the "
        + "time cap. *not pinned*: pairs whose two threads could not both be pinned where asked (their figures are not "
        + "those pairs').";

    private MatrixPart() {
    }

    /** {@return the time cap: 20 s, smoke 2 s} */
    static Duration budget(final Settings s) {
        return Duration.ofSeconds(s.smoke() ? 2 : 20);
    }

    static Result measure(final Settings s) throws InterruptedException {
        return result(CoreToCore.measure(budget(s)), budget(s));
    }

    /** {@return the matrix as the lab's result} @param budget the time cap it was measured under */
    static Result result(final CoreToCore.Matrix m, final Duration budget) {
        final Result r = new Result(PART, NAME, "host", null);
        final List<List<Double>> ns = new ArrayList<>();
        final List<List<Boolean>> pinned = new ArrayList<>();
        int measured = 0;
        for (int i = 0; i < m.cpus(); i++) {
            final List<Double> row = new ArrayList<>();
            final List<Boolean> pin = new ArrayList<>();
            for (int j = 0; j < m.cpus(); j++) {
                row.add(m.oneWayNanos()[i][j]); // NaN on the diagonal and where the cap ran out: null in JSON
                pin.add(m.pinned()[i][j]);
                if (i < j && !Double.isNaN(m.oneWayNanos()[i][j])) {
                    measured++;
                }
            }
            ns.add(row);
            pinned.add(pin);
        }
        r.info().put("cpus", m.cpus());
        r.info().put("one_way_ns", ns);
        r.info().put("pinned", pinned);
        r.info().put("topology", CoreToCore.topology(m).toString());
        r.info().put("hypervisor", m.hypervisor());
        r.info().put("pairs", m.cpus() * (m.cpus() - 1) / 2);
        r.info().put("pairs_measured", measured);
        r.info().put("budget_s", budget.toSeconds());
        return r;
    }

    /** {@return the one-way nanoseconds of {@code r}, NaN where none (the diagonal, a pair left out)} */
    static double[][] oneWay(final Result r) {
        final List<?> rows = r.info().get("one_way_ns") instanceof List<?> l ? l : List.of();
        final double[][] m = new double[rows.size()][rows.size()];
        for (int i = 0; i < m.length; i++) {
            final List<?> row = (List<?>) rows.get(i);
            for (int j = 0; j < m.length; j++) {
                m[i][j] = j < row.size() && row.get(j) instanceof Number n ? n.doubleValue() : Double.NaN;
            }
        }
        return m;
    }

    /** The matrix table: a row and a column per host CPU, one-way nanoseconds. */
    static Table table(final Result r) {
        if (r == null || r.error() != null) {
            return new Table("from \\ to");
        }
        final double[][] m = oneWay(r);
        final String[] header = new String[m.length + 1];
        header[0] = "from \\ to";
        for (int j = 0; j < m.length; j++) {
            header[j + 1] = "cpu " + j;
        }
        final Table t = new Table(header);
        for (int i = 0; i < m.length; i++) {
            final String[] row = new String[m.length + 1];
            row[0] = "cpu " + i;
            for (int j = 0; j < m.length; j++) {
                row[j + 1] = i == j ? "-" : CoreToCore.cell(m[i][j]).replace("|", "").trim();
            }
            t.row(row);
        }
        return t;
    }

    /** What the matrix implies: the topology, the hypervisor flag, how much of it was measured, the pairs not pinned. */
    static Table implied(final Result r) {
        final Table t = new Table("implied topology", "hypervisor", "pairs measured", "not pinned").leftAligned();
        if (r == null || r.error() != null) {
            return t;
        }
        final List<String> unpinned = new ArrayList<>();
        final double[][] m = oneWay(r);
        final List<?> pinned = r.info().get("pinned") instanceof List<?> l ? l : List.of();
        for (int i = 0; i < m.length && i < pinned.size(); i++) {
            for (int j = i + 1; j < m.length; j++) {
                if (!Double.isNaN(m[i][j]) && !Boolean.TRUE.equals(((List<?>) pinned.get(i)).get(j))) {
                    unpinned.add(i + "-" + j);
                }
            }
        }
        final Object measured = r.info().get("pairs_measured");
        final Object pairs = r.info().get("pairs");
        t.row(String.valueOf(r.info().get("topology")),
            Boolean.TRUE.equals(r.info().get("hypervisor")) ? "yes (the CPU flags say so: vCPUs the host may move)" : "no",
            String.format(Locale.ROOT, "%.0f of %.0f%s", num(measured), num(pairs),
                num(measured) < num(pairs) ? String.format(Locale.ROOT, " (time cap of %.0f s)", num(r.info().get("budget_s")))
                    : ""),
            unpinned.isEmpty() ? "none" : String.join(", ", unpinned));
        return t;
    }

    private static double num(final Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
