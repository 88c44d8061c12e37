package org.ipi4j;

import java.util.List;

import org.ipi4j.interrupts.UndeliveredInterrupt;

/**
 * What {@link Machine#shutdown(java.time.Duration)} could not finish, handed back so that
 * nothing is lost silently. Immutable.
 *
 * @param undelivered interrupts still pending on cores that will run no more, with their payloads
 * @param rejectedTasks tasks that never ran; their futures failed with
 *                      {@link org.ipi4j.interrupts.MachineClosedException}
 * @param stuckCores  cores that did not stop within the timeout, each with what it was doing and
 *                    its stack (their mailboxes could not be collected)
 * @param sendersInFlight senders still inside a send when the timeout ran out (a core whose
 *                    BLOCK back-off took a handler that never returned, an outside thread
 *                    descheduled mid-send): a payload of theirs may still land on a core after
 *                    this report was made
 */
public record ShutdownReport(List<UndeliveredInterrupt> undelivered, int rejectedTasks, List<String> stuckCores,
                             List<String> sendersInFlight) {
    /**
     * A report with no sender in flight.
     *
     * @param undelivered interrupts still pending on cores that will run no more
     * @param rejectedTasks tasks that never ran
     * @param stuckCores cores that did not stop within the timeout
     */
    public ShutdownReport(final List<UndeliveredInterrupt> undelivered, final int rejectedTasks,
                          final List<String> stuckCores) {
        this(undelivered, rejectedTasks, stuckCores, List.of());
    }

    /** {@return true if every interrupt was delivered, every task ran, every core stopped and no send was in flight} */
    public boolean isClean() {
        return undelivered.isEmpty() && rejectedTasks == 0 && stuckCores.isEmpty() && sendersInFlight.isEmpty();
    }
}
