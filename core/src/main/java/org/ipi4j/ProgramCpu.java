package org.ipi4j;

import org.ipi4j.apic.CpuContext;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Cpu;
import org.ipi4j.isa.Interpreter;

/**
 * One core as the {@link Interpreter} sees it: the narrow {@link Cpu} interface, over the core's
 * runtime. Every method runs on the core's own thread (the interpreter runs inside a task).
 */
final class ProgramCpu implements Cpu {
    private final CoreRuntime core;
    private final CpuContext cpu;

    ProgramCpu(final CoreRuntime core) {
        this.core = core;
        this.cpu = core.cpu;
    }

    @Override
    public int id() {
        return core.id;
    }

    @Override
    public Mode mode() {
        return cpu.mode();
    }

    @Override
    public void mode(final Mode mode) {
        cpu.mode(mode);
    }

    @Override
    public boolean interruptsEnabled() {
        return cpu.interruptsEnabled();
    }

    @Override
    public void boundary(final long pc) {
        core.boundary(pc);
    }

    @Override
    public void disableInterrupts() {
        cpu.irqOff();
    }

    @Override
    public void enableInterrupts() {
        cpu.irqOn();
    }

    @Override
    public void sendIpi(final int target, final int vector, final long payload) {
        core.send(target, Vector.of(vector), payload);
    }

    @Override
    public void halt(final long pc) {
        core.halt(pc);
    }

    @Override
    public CpuException generalProtection(final long pc, final String why) {
        return core.gp(pc, why);
    }

    @Override
    public ExceptionHandler.Action exception(final CpuException fault) {
        if (!(fault instanceof GeneralProtectionException)) {
            core.exceptionTaken(); // #GP was counted where it was raised
        }
        final Mode before = cpu.mode();
        cpu.mode(Mode.KERNEL);
        try {
            final ExceptionHandler.Action a = core.exceptionHandler(fault.vector()).handle(fault);
            return a == null ? ExceptionHandler.Action.KILL : a;
        } catch (Throwable t) {
            core.oops(fault.vector(), "exception handler threw", t);
            return ExceptionHandler.Action.KILL;
        } finally {
            cpu.mode(before);
        }
    }

    @Override
    public long interruptsTaken() {
        return cpu.received();
    }
}
