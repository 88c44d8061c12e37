package org.ipi4j.observability;

import java.util.List;
import java.util.Objects;

/**
 * One stall of one core, as the machine's stall watch reports it (once per stall): the core
 * reached no instruction boundary (no checkpoint, no program instruction, no round of its run loop
 * or of a wait) for {@code stalledNanos} while it was running. Immutable.
 *
 * @param cpu the core
 * @param stalledNanos how long it had been without a boundary when the watch noticed, in
 *                     nanoseconds (at least the threshold; at most about a threshold and a quarter more)
 * @param description what the core was doing ({@code Core.describe()}: mode, interrupt flag, the
 *                    handler it is in, its epc)
 * @param stack the core thread's stack when the watch noticed, innermost frame first
 */
public record CoreStall(int cpu, long stalledNanos, String description, List<StackTraceElement> stack) {
    /**
     * A stall; the stack is copied (the record is immutable).
     *
     * @param cpu the core
     * @param stalledNanos how long it had been without a boundary
     * @param description what the core was doing
     * @param stack the core thread's stack, innermost frame first
     */
    public CoreStall {
        Objects.requireNonNull(description, "description");
        stack = List.copyOf(stack);
    }

    /** {@return the stall in a few lines: the headline, then the stack} */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder("core ").append(cpu).append(" stalled for ")
            .append(stalledNanos / 1_000_000).append(" ms without an instruction boundary: ").append(description);
        for (final StackTraceElement e : stack) {
            sb.append("\n    at ").append(e);
        }
        return sb.toString();
    }
}
