package org.ipi4j.interrupts;

import java.util.List;

/**
 * An interrupt that was pending on a core when the machine shut down and could not be delivered
 * (the core never started, or stopped abnormally). Handed back to the caller of shutdown so that
 * nothing is lost silently. Immutable.
 *
 * @param cpu      target core
 * @param vector   pending vector
 * @param payloads payloads still in the mailbox, oldest first per sender
 */
public record UndeliveredInterrupt(int cpu, Vector vector, List<Object> payloads) {
}
