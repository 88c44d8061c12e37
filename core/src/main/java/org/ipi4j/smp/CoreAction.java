package org.ipi4j.smp;

/** Code a cross-core call runs on a target core, in interrupt context (interrupts disabled). */
@FunctionalInterface
public interface CoreAction {
    /**
     * Runs on core {@code cpu}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @throws Exception anything; it reaches the caller inside an {@link SmpCallException}
     */
    void run(int cpu) throws Exception;
}
