package org.ipi4j.interrupts;

/**
 * What a core saves when it takes an interrupt, and restores exactly on return.
 *
 * <p>{@code epc} is the exception program counter: for a {@link Mode}-tagged program run by the
 * core, the index of the next instruction to execute (the interrupted one has not started); for a
 * Java task, the sequence number of the {@code checkpoint()} at which it was interrupted; -1 when
 * the core was idle. The frame handed to a handler has the lifetime of its {@link Interrupt}: use
 * {@link Interrupt#copy()} to keep it.
 */
public interface TrapFrame {
    /** The core that took the interrupt. */
    int cpu();

    /** The vector being handled. */
    Vector vector();

    /** Where execution resumes. */
    long epc();

    /** The privilege level to return to. */
    Mode previousMode();

    /** The interrupt flag to return to. */
    boolean previousInterruptsEnabled();
}
