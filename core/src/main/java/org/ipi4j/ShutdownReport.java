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
 */
public record ShutdownReport(List<UndeliveredInterrupt> undelivered, int rejectedTasks, List<String> stuckCores) {
    /** {@return true if every interrupt was delivered, every task ran and every core stopped} */
    public boolean isClean() {
        return undelivered.isEmpty() && rejectedTasks == 0 && stuckCores.isEmpty();
    }
}
