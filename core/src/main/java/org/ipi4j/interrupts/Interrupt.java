package org.ipi4j.interrupts;

import java.util.List;

/**
 * One interrupt entry, as seen by an {@link InterruptHandler}.
 *
 * <p>{@link #payloads()} holds every payload that was in this core's mailbox for the vector when
 * the core took the interrupt, oldest first per sender. Because requests for the same vector
 * coalesce while pending, one entry can carry many payloads; a send without a payload (a pure
 * doorbell) and a late coalesced doorbell can give an entry with none. Immutable; valid after
 * the handler returns.
 *
 * @param cpu      core running the handler
 * @param vector   the vector taken
 * @param frame    the saved state the core returns to
 * @param payloads the drained payloads, never null
 */
public record Interrupt(int cpu, Vector vector, TrapFrame frame, List<Object> payloads) {
}
