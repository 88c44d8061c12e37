package org.ipi4j.isa;

/**
 * What a program left behind when it ran off its end. Immutable.
 *
 * @param registers          final register values (a copy)
 * @param retired            instructions executed to completion (a retried faulting instruction counts once)
 * @param interruptsTaken    interrupt entries taken while it ran
 * @param exceptionsRaised   exceptions it raised that a handler resolved (RETRY or SKIP)
 */
public record ProgramResult(long[] registers, long retired, long interruptsTaken, long exceptionsRaised) {
    /**
     * {@return register {@code r}}
     *
     * @param r the register number
     */
    public long register(final int r) {
        return registers[r];
    }
}
