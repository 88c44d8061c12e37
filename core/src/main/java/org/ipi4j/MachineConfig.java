package org.ipi4j;

import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

import org.ipi4j.apic.ControllerConfig;
import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.observability.CoreStall;
import org.ipi4j.sim.CostModel;
import org.ipi4j.sim.Simulation;
import org.ipi4j.time.Timeline;

/**
 * What a {@link Machine.Builder} was told, checked value by value as it was told: the one thing a
 * machine is made from. Immutable (the feature set is copied); the listener, factory, pinner,
 * fault injector and simulation are the caller's objects, shared as given.
 *
 * @param name the machine's name, for thread names
 * @param cores how many cores, 1 to 1024
 * @param idlePolicy how an idle core waits
 * @param pinning whether cores pin themselves
 * @param mailboxCapacity payloads per vector and core
 * @param overflowPolicy what a send to a full mailbox does
 * @param blockTimeout how long a blocking send waits for room
 * @param faultPolicy what follows a handler that throws
 * @param memoryWords physical memory, in 64-bit words
 * @param oopsListener called for every oops, or null
 * @param timeHandlers whether handler time is measured
 * @param oopsCapacity how many of the first oopses are kept
 * @param faults injected faults, or null
 * @param pinner the pinner given, or null for the class path's
 * @param threadFactory makes the core threads, or null for daemon threads
 * @param paravirt the paravirtual features the cores use
 * @param deliveryMode how a send decides to wake its target
 * @param simulation the simulation the machine runs in, or null
 * @param topology where cores sit, or null for the default
 * @param costModel what the machine's steps cost, or null for the default
 * @param stallThreshold how long without a boundary is a stall, or null for no stall watch
 * @param stallListener called for every stall, or null
 */
record MachineConfig(String name, int cores, IdlePolicy idlePolicy, Pinning pinning, int mailboxCapacity,
                     OverflowPolicy overflowPolicy, Duration blockTimeout, FaultPolicy faultPolicy, int memoryWords,
                     Consumer<Oops> oopsListener, boolean timeHandlers, int oopsCapacity, FaultInjector faults,
                     Pinner pinner, ThreadFactory threadFactory, EnumSet<Paravirt> paravirt,
                     DeliveryMode deliveryMode, Simulation simulation, Topology topology, CostModel costModel,
                     Duration stallThreshold,
                     Consumer<CoreStall> stallListener) {
    MachineConfig {
        paravirt = EnumSet.copyOf(paravirt); // the builder may change its set after build()
        if (simulation != null && costModel != null && !costModel.equals(simulation.costs())) {
            // One model per machine: choices made from one and time charged by another would disagree.
            throw new IllegalArgumentException("costModel (" + costModel + ") differs from the simulation's ("
                + simulation.costs() + "): a simulated machine uses its simulation's model; give it to "
                + "Simulation.Builder.costModel instead");
        }
    }

    /** {@return the model the machine's choices are made from: the simulation's, the given one, or the defaults} */
    CostModel effectiveCostModel() {
        return simulation != null ? simulation.costs() : costModel != null ? costModel : CostModel.defaults();
    }

    @Override
    public EnumSet<Paravirt> paravirt() {
        return EnumSet.copyOf(paravirt);
    }

    /**
     * The machine's interrupt controller as configured: the one place a machine makes it.
     *
     * @param host the machine's callbacks into the cores
     * @param timeline the machine's time (the host's, or the simulation's)
     * @return a new controller
     */
    InterruptController interruptController(final InterruptController.Host host, final Timeline timeline) {
        return new InterruptController(ControllerConfig.builder(name, cores).idlePolicy(idlePolicy)
            .mailboxes(mailboxCapacity, overflowPolicy, blockTimeout.toNanos()).timeHandlers(timeHandlers)
            .faults(faults).deliveryMode(deliveryMode).pvSendIpi(paravirt.contains(Paravirt.SEND_IPI)).build(),
            host, timeline);
    }
}
