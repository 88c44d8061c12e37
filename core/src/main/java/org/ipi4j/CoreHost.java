package org.ipi4j;

import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Memory;
import org.ipi4j.time.Timeline;

/**
 * What a core needs from the machine it belongs to, and nothing more: the machine hands each core
 * one of these (a private adapter of its own), so that a core never sees the machine. Every method
 * is thread-safe; {@link #pvFlush} and {@link #oops} run on the calling core's thread.
 */
interface CoreHost {
    /** {@return where the machine's time comes from and how its threads wait} */
    Timeline timeline();

    /**
     * What an instruction boundary costs, run at every one: a simulation lets one instruction's
     * virtual time pass (so that a looping task lets the others run); on the host, real time
     * passes by itself and it does nothing. Chosen once, when the machine is made, so that the
     * boundary tests no flag.
     *
     * @return the cost of one boundary, never null
     */
    Runnable boundaryCost();

    /** {@return the pinner for {@link Pinning#BEST_EFFORT}, or null: the core runs unpinned} */
    Pinner pinner();

    /** {@return the physical memory programs load from and store to} */
    Memory memory();

    /**
     * Runs the machine's PV flush hooks on core {@code cpu}, which resumes with a TLB flush
     * pending; a hook that throws is recorded as an oops and the next one runs.
     *
     * @param cpu the resuming core, the caller
     */
    void pvFlush(int cpu);

    /**
     * Records a failure on core {@code cpu} in the machine's oops log.
     *
     * @param cpu the core, the caller
     * @param vector the vector being handled, or null
     * @param what short description
     * @param error the exception, or null
     */
    void oops(int cpu, Vector vector, String what, Throwable error);
}
