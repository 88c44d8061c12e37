package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code lab torture}: its options, a short simulated run with its totals, and bad arguments. */
@Timeout(120)
class TortureCommandTest {
    @Test
    void helpNamesTheOptions() {
        final LabCommandTest.Run help = LabCommandTest.lab("torture", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("Usage: lab torture", "--duration", "--seed", "--seeds", "--simulate", "--run");
        assertThat(LabCommandTest.lab("--help").out()).contains("torture");
    }

    @Test
    void aSimulatedSeedRunsTwiceAndPrintsItsTotals() {
        final LabCommandTest.Run run = LabCommandTest.lab("torture", "--simulate", "--seed", "3", "--seeds", "1");
        assertThat(run.out()).contains("[torture] totals: 1 runs", "operations: {", "checks: {");
        assertThat(run.code()).as(run.out()).isZero();
    }

    @Test
    void badArgumentsExitWith2() {
        assertThat(LabCommandTest.lab("torture", "--seeds", "0").code()).isEqualTo(2);
        assertThat(LabCommandTest.lab("torture", "--run", "soon").code()).isEqualTo(2);
    }
}
