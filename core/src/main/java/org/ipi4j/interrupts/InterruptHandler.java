package org.ipi4j.interrupts;

/**
 * The code a core runs when it takes an interrupt: one entry of the interrupt descriptor table.
 *
 * <p>A handler runs on the target core's thread, in {@link Mode#KERNEL}, with interrupts
 * disabled, so it is never re-entered on the same core. It happens-after every write the
 * senders made before their {@code send} of the payloads it receives (and, for a doorbell, the
 * sends that set the pending bit it cleared). It must not block for long: the core takes no other
 * interrupt meanwhile. A handler that throws does not kill the core; the failure is recorded as
 * an {@link Oops} and the machine's {@link FaultPolicy} decides what happens next.
 */
@FunctionalInterface
public interface InterruptHandler {
    /**
     * Handles one interrupt entry, draining its payloads.
     *
     * @param interrupt the per-core view of this entry, valid until the handler returns
     * @throws Exception anything: recorded as an {@link Oops}, and the core goes on
     */
    void handle(Interrupt interrupt) throws Exception;
}
