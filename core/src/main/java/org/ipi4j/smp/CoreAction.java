package org.ipi4j.smp;

/** Code a cross-core call runs on a target core, in interrupt context (interrupts disabled). */
@FunctionalInterface
public interface CoreAction {
    /** Runs on core {@code cpu}. */
    void run(int cpu) throws Exception;
}
