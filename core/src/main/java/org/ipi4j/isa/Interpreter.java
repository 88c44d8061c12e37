package org.ipi4j.isa;

import java.lang.invoke.VarHandle;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.Mode;

/**
 * Runs a {@link Program} on a {@link Cpu}, one instruction at a time, taking interrupts only at
 * the boundaries between instructions (so they are precise) and raising exceptions at the
 * faulting instruction. One interpreter per core; not thread-safe.
 */
@InternalApi
public final class Interpreter {
    private final Cpu cpu;
    private final Memory memory;
    /** Where COMPUTE leaves its result, so the JIT cannot drop the loop. */
    private long sink;

    /**
     * An interpreter for {@code cpu}, whose loads and stores go to {@code memory}.
     *
     * @param cpu the core the program runs on
     * @param memory the physical memory
     */
    public Interpreter(final Cpu cpu, final Memory memory) {
        this.cpu = cpu;
        this.memory = memory;
    }

    /**
     * Runs {@code program} in {@code runMode}; loads and stores go through {@code translation}
     * (null for physical addresses). The privilege level and interrupt flag are restored when the
     * program ends, as at a process exit.
     *
     * @param program the program to run
     * @param translation maps virtual to physical addresses, or null for physical addresses
     * @param runMode the privilege level the program starts in
     * @return how the program ended, and its registers
     * @throws CpuException the exception that killed the program
     */
    public ProgramResult run(final Program program, final Mode runMode, final AddressTranslation translation) {
        final Mode savedMode = cpu.mode();
        final boolean savedIf = cpu.interruptsEnabled();
        final long takenBefore = cpu.interruptsTaken();
        final long[] r = new long[Program.REGISTERS];
        long retired = 0;
        long resolved = 0;
        int pc = 0;
        cpu.mode(runMode);
        try {
            while (pc < program.length()) {
                cpu.boundary(pc);
                final Instruction ins = program.at(pc);
                try {
                    pc = step(ins, pc, r, translation);
                    retired++;
                } catch (CpuException fault) {
                    switch (cpu.exception(fault)) {
                        case RETRY -> resolved++;
                        case SKIP -> {
                            resolved++;
                            pc++;
                        }
                        default -> throw fault;
                    }
                }
            }
            return new ProgramResult(r.clone(), retired, cpu.interruptsTaken() - takenBefore, resolved);
        } finally {
            cpu.mode(savedMode);
            if (savedIf) {
                cpu.enableInterrupts();
            } else {
                cpu.disableInterrupts();
            }
        }
    }

    private int step(final Instruction ins, final int pc, final long[] r, final AddressTranslation translation) {
        if (ins.op().privileged() && cpu.mode() == Mode.USER) {
            throw cpu.generalProtection(pc, ins + " is privileged");
        }
        switch (ins.op()) {
            case NOP -> { }
            case SET -> r[ins.a()] = ins.imm();
            case ADD -> r[ins.a()] = r[ins.b()] + r[ins.c()];
            case ADDI -> r[ins.a()] += ins.imm();
            case MULI -> r[ins.a()] *= ins.imm();
            case COMPUTE -> {
                long x = sink;
                for (long i = 0; i < ins.imm(); i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
                sink = x;
            }
            case LOAD, STORE, LOAD_ACQUIRE, STORE_RELEASE -> access(ins, pc, r, translation);
            case FENCE -> VarHandle.fullFence();
            case BNEZ -> {
                if (r[ins.a()] != 0) {
                    return ins.b();
                }
            }
            case CLI -> cpu.disableInterrupts();
            case STI -> cpu.enableInterrupts(); // pending interrupts are taken at the next boundary
            case SEND_IPI -> cpu.sendIpi(ins.a(), ins.b(), r[ins.c()]);
            case HLT -> cpu.halt(pc);
            default -> throw new IllegalStateException("unknown opcode " + ins.op());
        }
        return pc + 1;
    }

    /** A load or store: translated, done, and then the translation told the access is over. */
    private void access(final Instruction ins, final int pc, final long[] r, final AddressTranslation translation) {
        final boolean write = ins.op() == Opcode.STORE || ins.op() == Opcode.STORE_RELEASE;
        try {
            final long p = physical(translation, pc, ins.imm(), write);
            switch (ins.op()) {
                case LOAD -> r[ins.a()] = memory.load(p);
                case STORE -> memory.store(p, r[ins.a()]);
                case LOAD_ACQUIRE -> r[ins.a()] = memory.loadAcquire(p);
                default -> memory.storeRelease(p, r[ins.a()]);
            }
        } finally {
            if (translation != null) {
                translation.endAccess(cpu.id());
            }
        }
    }

    /**
     * The physical address of an access. One outside physical memory is a precise #GP at the
     * accessing instruction, as a bus error would be, not a Java exception.
     */
    private long physical(final AddressTranslation translation, final int pc, final long address, final boolean write) {
        final long physical = translation == null ? address : translation.translate(cpu.id(), pc, address, write);
        if (physical < 0 || physical >= memory.size()) {
            throw cpu.generalProtection(pc, (write ? "store to" : "load from") + " physical address " + physical
                + " outside memory of " + memory.size() + " words");
        }
        return physical;
    }
}
