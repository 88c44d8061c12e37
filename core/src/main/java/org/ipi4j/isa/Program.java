package org.ipi4j.isa;

import java.util.ArrayList;
import java.util.List;

import org.ipi4j.interrupts.Vector;

/**
 * An immutable instruction stream for a core, with {@link #REGISTERS} 64-bit registers.
 *
 * <p>A core interprets a program one instruction at a time and takes interrupts only between
 * instructions, so an interrupted program resumes exactly at the saved EPC and computes what an
 * uninterrupted run computes. Build one with {@link #builder()}:
 *
 * <pre>{@code
 * Program sum = Program.builder()
 *     .set(0, 0).set(1, 1000)          // r0 = 0, r1 = 1000
 *     .label("loop")
 *     .add(0, 0, 1).addi(1, -1)        // r0 += r1; r1--
 *     .bnez(1, "loop")
 *     .store(0, 0)                     // mem[0] = r0
 *     .build();
 * }</pre>
 */
public final class Program {
    /** Number of registers, r0 to r7. */
    public static final int REGISTERS = 8;

    private final Instruction[] code;

    private Program(final Instruction[] code) {
        this.code = code;
    }

    /** {@return a new builder} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return number of instructions} */
    public int length() {
        return code.length;
    }

    /**
     * {@return the instruction at {@code pc}}
     *
     * @param pc the index of the instruction
     */
    public Instruction at(final int pc) {
        return code[pc];
    }

    /** {@return the instructions, in order} */
    public List<Instruction> instructions() {
        return List.of(code);
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < code.length; i++) {
            sb.append(String.format("%4d  %s%n", i, code[i]));
        }
        return sb.toString();
    }

    /** Builds a {@link Program}. Not thread-safe. */
    public static final class Builder {
        private final List<Instruction> code = new ArrayList<>();
        private final java.util.Map<String, Integer> labels = new java.util.HashMap<>();
        private final java.util.Map<Integer, String> fixups = new java.util.HashMap<>();

        private Builder() {
        }

        private Builder add(final Opcode op, final int a, final int b, final int c, final long imm) {
            code.add(new Instruction(op, a, b, c, imm));
            return this;
        }

        private static int reg(final int r) {
            if (r < 0 || r >= REGISTERS) {
                throw new IllegalArgumentException("register r" + r + " does not exist (r0-r7)");
            }
            return r;
        }

        private static long addr(final long address) {
            if (address < 0) {
                throw new IllegalArgumentException("negative address " + address);
            }
            return address;
        }

        /**
         * Names the next instruction's position.
         *
         * @param name the name
         * @return this builder
         */
        public Builder label(final String name) {
            java.util.Objects.requireNonNull(name, "name");
            if (labels.putIfAbsent(name, code.size()) != null) {
                throw new IllegalArgumentException("label " + name + " defined twice");
            }
            return this;
        }

        /**
         * Does nothing.
         *
         * @return this builder
         */
        public Builder nop() {
            return add(Opcode.NOP, 0, 0, 0, 0);
        }

        /**
         * {@code r = value}.
         *
         * @param r the register
         * @param value the immediate
         * @return this builder
         */
        public Builder set(final int r, final long value) {
            return add(Opcode.SET, reg(r), 0, 0, value);
        }

        /**
         * {@code rd = ra + rb}.
         *
         * @param rd the destination register
         * @param ra a source register
         * @param rb a source register
         * @return this builder
         */
        public Builder add(final int rd, final int ra, final int rb) {
            return add(Opcode.ADD, reg(rd), reg(ra), reg(rb), 0);
        }

        /**
         * {@code r += value}.
         *
         * @param r the register
         * @param value the immediate
         * @return this builder
         */
        public Builder addi(final int r, final long value) {
            return add(Opcode.ADDI, reg(r), 0, 0, value);
        }

        /**
         * {@code r *= value}.
         *
         * @param r the register
         * @param value the immediate
         * @return this builder
         */
        public Builder muli(final int r, final long value) {
            return add(Opcode.MULI, reg(r), 0, 0, value);
        }

        /**
         * Burns {@code iterations} rounds of arithmetic: a stand-in for work.
         *
         * @param iterations how many rounds
         * @return this builder
         */
        public Builder compute(final long iterations) {
            return add(Opcode.COMPUTE, 0, 0, 0, Math.max(0, iterations));
        }

        /**
         * {@code rd = memory[address]}, a plain load.
         *
         * @param rd the destination register
         * @param address the physical or virtual address
         * @return this builder
         */
        public Builder load(final int rd, final long address) {
            return add(Opcode.LOAD, reg(rd), 0, 0, addr(address));
        }

        /**
         * {@code memory[address] = rs}, a plain store.
         *
         * @param address the physical or virtual address
         * @param rs the source register
         * @return this builder
         */
        public Builder store(final long address, final int rs) {
            return add(Opcode.STORE, reg(rs), 0, 0, addr(address));
        }

        /**
         * {@code rd = memory[address]} with acquire semantics.
         *
         * @param rd the destination register
         * @param address the physical or virtual address
         * @return this builder
         */
        public Builder loadAcquire(final int rd, final long address) {
            return add(Opcode.LOAD_ACQUIRE, reg(rd), 0, 0, addr(address));
        }

        /**
         * {@code memory[address] = rs} with release semantics.
         *
         * @param address the physical or virtual address
         * @param rs the source register
         * @return this builder
         */
        public Builder storeRelease(final long address, final int rs) {
            return add(Opcode.STORE_RELEASE, reg(rs), 0, 0, addr(address));
        }

        /**
         * A full memory fence.
         *
         * @return this builder
         */
        public Builder fence() {
            return add(Opcode.FENCE, 0, 0, 0, 0);
        }

        /**
         * Branch to {@code label} (defined before or after) if {@code r != 0}.
         *
         * @param r the register number
         * @param label the label
         * @return this builder
         */
        public Builder bnez(final int r, final String label) {
            java.util.Objects.requireNonNull(label, "label");
            fixups.put(code.size(), label);
            return add(Opcode.BNEZ, reg(r), -1, 0, 0);
        }

        /**
         * Disables interrupts (kernel mode only; #GP in user mode).
         *
         * @return this builder
         */
        public Builder cli() {
            return add(Opcode.CLI, 0, 0, 0, 0);
        }

        /**
         * Enables interrupts (kernel mode only; #GP in user mode).
         *
         * @return this builder
         */
        public Builder sti() {
            return add(Opcode.STI, 0, 0, 0, 0);
        }

        /**
         * Sends {@code vector} to {@code cpu} with the value of register {@code payloadReg} as payload.
         *
         * @param cpu the core's id, 0 to the machine's core count - 1
         * @param vector the interrupt vector
         * @param payloadReg the register whose value is sent as the payload
         * @return this builder
         * @throws IllegalArgumentException for a negative core id, or a vector that is not an IPI
         *                                  vector (32-255); whether the core exists and the vector has
         *                                  a handler is checked when the instruction executes
         */
        public Builder sendIpi(final int cpu, final int vector, final int payloadReg) {
            if (cpu < 0) {
                throw new IllegalArgumentException("sendIpi: negative core id " + cpu);
            }
            if (vector < Vector.FIRST_IPI || vector >= Vector.COUNT) {
                throw new IllegalArgumentException("sendIpi: vector " + vector + " is not an IPI vector ("
                    + Vector.FIRST_IPI + "-" + (Vector.COUNT - 1) + ")");
            }
            return add(Opcode.SEND_IPI, cpu, vector, reg(payloadReg), 0);
        }

        /**
         * Halts until an interrupt arrives (kernel mode only).
         *
         * @return this builder
         */
        public Builder hlt() {
            return add(Opcode.HLT, 0, 0, 0, 0);
        }

        /**
         * The program.
         *
         * @return the program
         * @throws IllegalArgumentException if a branch names an undefined label
         */
        public Program build() {
            final Instruction[] out = code.toArray(new Instruction[0]);
            fixups.forEach((pc, label) -> {
                final Integer target = labels.get(label);
                if (target == null) {
                    throw new IllegalArgumentException("undefined label " + label);
                }
                final Instruction i = out[pc];
                out[pc] = new Instruction(i.op(), i.a(), target, i.c(), i.imm());
            });
            return new Program(out);
        }
    }
}
