package org.ipi4j.interrupts;

/** What the machine does after an interrupt handler threw. The failure is recorded either way. */
public enum FaultPolicy {
    /** Record an {@link Oops}, return from the interrupt, and keep the core running. */
    CONTINUE,
    /** Record an {@link Oops} and start an orderly shutdown of the whole machine. */
    HALT_MACHINE
}
