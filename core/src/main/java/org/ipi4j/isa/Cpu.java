package org.ipi4j.isa;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.Mode;

/**
 * The narrow view of a core that the {@link Interpreter} runs a {@link Program} against: its
 * privilege level, its interrupt flag, its instruction boundaries and its privileged operations.
 * Implemented by the machine's cores; every method is called on the core's own thread.
 */
@InternalApi
public interface Cpu {
    /** {@return the core id} */
    int id();

    /** {@return the current privilege level} */
    Mode mode();

    /**
     * Sets the privilege level.
     *
     * @param mode the privilege level to run in
     */
    void mode(Mode mode);

    /** {@return the current interrupt flag} */
    boolean interruptsEnabled();

    /**
     * An instruction boundary before the instruction at {@code pc}: records the EPC and, if
     * interrupts are enabled, takes every pending interrupt (precise: that instruction has not
     * started).
     *
     * @param pc the index of the instruction
     */
    void boundary(long pc);

    /** {@code cli}: disables interrupts. */
    void disableInterrupts();

    /** {@code sti}: enables interrupts; pending ones are taken at the next boundary. */
    void enableInterrupts();

    /**
     * {@code send_ipi}: sends vector {@code vector} with {@code payload} to core {@code target}.
     *
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @param target the target core's id
     */
    void sendIpi(int target, int vector, long payload);

    /**
     * {@code hlt}: waits for an interrupt, takes it, and returns.
     *
     * @param pc the index of the instruction
     */
    void halt(long pc);

    /**
     * Counts and returns a general-protection fault at {@code pc}.
     *
     * @param pc the index of the instruction
     * @param why what went wrong
     * @return the exception, to be raised by the caller
     */
    CpuException generalProtection(long pc, String why);

    /**
     * Runs the installed handler for {@code fault} (which was raised at its EPC) and says what to do.
     *
     * @param fault the CPU exception
     * @return what the interpreter does next
     */
    ExceptionHandler.Action exception(CpuException fault);

    /** {@return interrupt entries this core has taken so far} */
    long interruptsTaken();
}
