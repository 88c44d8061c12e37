package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.interrupts.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which cost model a machine answers with, and the one refusal: a simulated machine given a model its simulation does not use. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MachineCostModelTest {
    private static final CostModel SLOW_SEND = CostModel.builder().send(900).topology(Topology.of(2, 2)).build();

    @Test
    void aSimulatedMachineAnswersWithItsSimulationsModel() {
        final Simulation sim = Simulation.builder().costModel(SLOW_SEND).build();
        assertThat(sim.costs()).isSameAs(SLOW_SEND);
        final Machine m = Machine.builder().cores(4).simulation(sim).build();
        assertThat(m.costModel()).isSameAs(SLOW_SEND);
        assertThat(m.topology().coresPerComplex()).isEqualTo(2);
        final Machine same = Machine.builder().cores(4).simulation(Simulation.builder().costs(SLOW_SEND).build())
            .costModel(SLOW_SEND.toBuilder().build()).build();
        assertThat(same.costModel()).isEqualTo(SLOW_SEND);
    }

    @Test
    void aRealMachineAnswersWithTheGivenModelOrTheDefaults() {
        final Machine given = Machine.builder().cores(2).pinning(Pinning.NONE).costModel(SLOW_SEND).build();
        assertThat(given.costModel()).isSameAs(SLOW_SEND);
        assertThat(given.topology().coresPerComplex()).as("topology defaults to the model's").isEqualTo(2);
        final Machine ownTopology = Machine.builder().cores(2).pinning(Pinning.NONE).costModel(SLOW_SEND)
            .topology(Topology.uniform()).build();
        assertThat(ownTopology.topology()).isSameAs(Topology.uniform());
        final Machine none = Machine.builder().cores(2).pinning(Pinning.NONE).build();
        assertThat(none.costModel()).isEqualTo(CostModel.defaults());
        assertThat(none.topology()).as("unchanged: uniform without a model").isSameAs(Topology.uniform());
    }

    @Test
    void aSimulatedMachineGivenAnotherModelIsRefusedBeforeItBindsTheSimulation() throws Exception {
        final Simulation sim = Simulation.builder().build();
        assertThatThrownBy(() -> Machine.builder().cores(2).simulation(sim).costModel(SLOW_SEND).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("costModel")
            .hasMessageContaining("Simulation.Builder.costModel");
        // Nothing happened: the simulation is still free to serve a machine.
        try (Machine m = Machine.builder().cores(2).simulation(sim).build().start()) {
            assertThat(sim.run(() -> 42)).isEqualTo(42);
            m.shutdown(Duration.ofSeconds(5));
        }
    }
}
