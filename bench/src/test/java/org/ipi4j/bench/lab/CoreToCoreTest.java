package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import org.ipi4j.interrupts.Topology;
import org.junit.jupiter.api.Test;

class CoreToCoreTest {
    /** A matrix of n CPUs whose latency is {@code near} within complexes of {@code complex}, {@code far} beyond. */
    private static CoreToCore.Matrix matrix(final int n, final int complex, final double near, final double far,
                                            final int socket, final double cross) {
        final double[][] m = new double[n][n];
        final boolean[][] pinned = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                m[i][j] = i == j ? Double.NaN : i / socket != j / socket ? cross : i / complex == j / complex ? near : far;
                pinned[i][j] = true;
            }
        }
        return new CoreToCore.Matrix(m, pinned, false);
    }

    @Test
    void complexesAndSocketsAreReadFromTheDistancesToCpuZero() {
        final Topology t = CoreToCore.topology(matrix(16, 4, 20, 60, 8, 150));
        assertThat(t.coresPerComplex()).isEqualTo(4);
        assertThat(t.complexesPerSocket()).isEqualTo(2);
    }

    @Test
    void aHostWhosePairsAreAllAlikeIsOneComplex() {
        final Topology t = CoreToCore.topology(matrix(2, 2, 70, 70, 2, 70));
        assertThat(t.coresPerComplex()).isEqualTo(2);
        assertThat(t.complexesPerSocket()).isEqualTo(1);
    }

    @Test
    void theTableSaysWhatWasMeasuredAndWhatWasNotPinned() {
        final CoreToCore.Matrix m = matrix(2, 2, 70, 70, 2, 70);
        m.pinned()[0][1] = false;
        final String table = CoreToCore.table(m);
        assertThat(table).contains("| cpu 0 | - | 70 ns |", "Implied topology", "Hypervisor: no", "NOT PINNED", "0-1");
        assertThat(CoreToCore.cpuinfoSaysHypervisor("processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n")).isTrue();
        assertThat(CoreToCore.cpuinfoSaysHypervisor("processor\t: 0\nflags\t\t: fpu vme lahf_lm\n")).isFalse();
    }

    @Test
    void aRealMatrixOfThisHostHasAFigureForEveryPair() throws Exception {
        final CoreToCore.Matrix m = CoreToCore.measure();
        for (int i = 0; i < m.cpus(); i++) {
            for (int j = 0; j < m.cpus(); j++) {
                if (i != j) {
                    assertThat(m.oneWayNanos()[i][j]).isPositive().isEqualTo(m.oneWayNanos()[j][i]);
                }
            }
        }
    }
}
