package org.ipi4j.apic;

/**
 * Faults a test injects into the delivery path, installed with {@code Machine.Builder.faults}.
 * Off by default: without an injector every hook site is one null check of a final field. The
 * hooks run on the library's own threads, so they must be thread-safe; {@link Faults} is a
 * ready-made implementation.
 */
public interface FaultInjector {
    /**
     * Called on core {@code cpu} at every instruction boundary (program steps, checkpoints, the run
     * loop between tasks) and before it idles. Blocking here freezes the core, as a vCPU whose host
     * thread is descheduled: it takes no interrupt and runs nothing until this returns.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    default void atBoundary(final int cpu) {
    }

    /**
     * Called on core {@code cpu} when it is about to take {@code vector}, before the mailbox is
     * drained. Sleeping here delays the delivery.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     */
    default void beforeDelivery(final int cpu, final int vector) {
    }

    /**
     * Called inside the handler's protection, just before the handler for {@code vector} runs on
     * {@code cpu}: throwing here is a handler that throws (recorded as an oops), blocking is a
     * handler that never returns.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     * @throws Exception to make the handler entry fail
     */
    default void inHandler(final int cpu, final int vector) throws Exception {
    }

    /**
     * Called by a waker about to unpark parked core {@code cpu}: return true to lose this wake-up
     * (the pending bit stays set and the core sleeps on). A cross-core call's watchdog re-send
     * wakes it again.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @return true to lose this wake-up
     */
    default boolean dropWakeup(final int cpu) {
        return false;
    }
}
