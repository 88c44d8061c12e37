package org.ipi4j.isa;

/**
 * One instruction: an opcode and its operands (registers {@code a}, {@code b}, {@code c}, and an
 * immediate). Immutable.
 *
 * @param op  the opcode
 * @param a   first register or core operand
 * @param b   second register, branch target or vector
 * @param c   third register
 * @param imm immediate value or address
 */
public record Instruction(Opcode op, int a, int b, int c, long imm) {
    @Override
    public String toString() {
        return switch (op) {
            case NOP, FENCE, CLI, STI, HLT -> op.name().toLowerCase();
            case SET, ADDI, MULI -> op.name().toLowerCase() + " r" + a + ", " + imm;
            case ADD -> "add r" + a + ", r" + b + ", r" + c;
            case COMPUTE -> "compute " + imm;
            case LOAD, LOAD_ACQUIRE -> op.name().toLowerCase() + " r" + a + ", [" + imm + "]";
            case STORE, STORE_RELEASE -> op.name().toLowerCase() + " [" + imm + "], r" + a;
            case BNEZ -> "bnez r" + a + ", " + b;
            case SEND_IPI -> "send_ipi core " + a + ", vector " + b + ", r" + c;
        };
    }
}
