package org.ipi4j.interrupts;

/**
 * What a core saves when it takes an interrupt or exception, and restores exactly on return.
 *
 * <p>{@code epc} is the exception program counter: for a {@link Mode}-tagged program run by the
 * core, the index of the next instruction to execute (the interrupted one has not started; for
 * an exception, the faulting one); for a Java task, the sequence number of the
 * {@code checkpoint()} at which it was interrupted; -1 when the core was idle. Immutable.
 *
 * @param cpu                        core that took the interrupt
 * @param vector                     vector being handled
 * @param epc                        where execution resumes
 * @param previousMode               privilege level to return to
 * @param previousInterruptsEnabled  interrupt flag to return to
 */
public record TrapFrame(int cpu, Vector vector, long epc, Mode previousMode, boolean previousInterruptsEnabled) {
}
