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
    /** {@return the core that took the interrupt} */
    int cpu();

    /** {@return the vector being handled} */
    Vector vector();

    /** {@return where execution resumes} */
    long epc();

    /** {@return the privilege level to return to} */
    Mode previousMode();

    /** {@return the interrupt flag to return to} */
    boolean previousInterruptsEnabled();
}
