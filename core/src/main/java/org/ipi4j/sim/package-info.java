/**
 * Deterministic simulation: {@link org.ipi4j.sim.Simulation} is a seeded, virtual-time
 * {@link org.ipi4j.time.Timeline} that runs a machine's unchanged protocols one thread at a time,
 * with the step costs of a {@link org.ipi4j.sim.CostModel}, on up to thousands of cores on any
 * host. Depends on {@code idle} and {@code interrupts} only.
 */
package org.ipi4j.sim;
