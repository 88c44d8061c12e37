package org.ipi4j.isa;

/**
 * The instructions a core interprets, one at a time. Interrupts are taken only between two
 * instructions, never inside one. Privileged ones raise #GP in user mode.
 */
public enum Opcode {
    /** Does nothing. */
    NOP(false),
    /** {@code r[a] = imm}. */
    SET(false),
    /** {@code r[a] = r[b] + r[c]}. */
    ADD(false),
    /** {@code r[a] = r[a] + imm}. */
    ADDI(false),
    /** {@code r[a] = r[a] * imm}. */
    MULI(false),
    /** Busy work for {@code imm} iterations (a long ALU instruction). */
    COMPUTE(false),
    /** {@code r[a] = mem[imm]}, a plain load. */
    LOAD(false),
    /** {@code mem[imm] = r[a]}, a plain store. */
    STORE(false),
    /** {@code r[a] = mem[imm]} with acquire semantics. */
    LOAD_ACQUIRE(false),
    /** {@code mem[imm] = r[a]} with release semantics. */
    STORE_RELEASE(false),
    /** A full two-way fence. */
    FENCE(false),
    /** Jump to instruction {@code b} if {@code r[a] != 0}. */
    BNEZ(false),
    /** Disable interrupts on this core (privileged). */
    CLI(true),
    /** Enable interrupts on this core (privileged). */
    STI(true),
    /** Send vector {@code b} to core {@code a}, payload {@code r[c]} (privileged). */
    SEND_IPI(true),
    /** Wait for an interrupt, take it, go on with the next instruction (privileged). */
    HLT(true);

    private final boolean privileged;

    Opcode(final boolean privileged) {
        this.privileged = privileged;
    }

    /** {@return true if executing it in user mode raises #GP} */
    public boolean privileged() {
        return privileged;
    }
}
