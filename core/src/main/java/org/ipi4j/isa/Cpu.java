package org.ipi4j.isa;

import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.Mode;

/**
 * The narrow view of a core that the {@link Interpreter} runs a {@link Program} against: its
 * privilege level, its interrupt flag, its instruction boundaries and its privileged operations.
 * Implemented by the machine's cores; every method is called on the core's own thread.
 */
public interface Cpu {
    /** The core id. */
    int id();

    /** The current privilege level. */
    Mode mode();

    /** Sets the privilege level. */
    void mode(Mode mode);

    /** The current interrupt flag. */
    boolean interruptsEnabled();

    /**
     * An instruction boundary before the instruction at {@code pc}: records the EPC and, if
     * interrupts are enabled, takes every pending interrupt (precise: that instruction has not
     * started).
     */
    void boundary(long pc);

    /** {@code cli}: disables interrupts. */
    void disableInterrupts();

    /** {@code sti}: enables interrupts; pending ones are taken at the next boundary. */
    void enableInterrupts();

    /** {@code send_ipi}: sends vector {@code vector} with {@code payload} to core {@code target}. */
    void sendIpi(int target, int vector, long payload);

    /** {@code hlt}: waits for an interrupt, takes it, and returns. */
    void halt(long pc);

    /** Counts and returns a general-protection fault at {@code pc}. */
    CpuException generalProtection(long pc, String why);

    /** Runs the installed handler for {@code fault} (which was raised at its EPC) and says what to do. */
    ExceptionHandler.Action exception(CpuException fault);

    /** Interrupt entries this core has taken so far. */
    long interruptsTaken();
}
