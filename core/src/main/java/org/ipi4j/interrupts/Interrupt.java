package org.ipi4j.interrupts;

import java.util.List;

/**
 * One interrupt entry, as seen by an {@link InterruptHandler}.
 *
 * <p>{@link #payloads()} holds every payload that was in this core's mailbox for the vector when
 * the core took the interrupt, oldest first per sender. Because requests for the same vector
 * coalesce while pending, one entry can carry many payloads; a send without a payload (a pure
 * doorbell) and a late coalesced doorbell can give an entry with none.
 *
 * <h2>Lifetime</h2>
 * The object a handler receives is a per-core view that the core reuses for its next entry, so
 * that taking an interrupt allocates nothing. It (and its {@link #frame()} and {@link #payloads()})
 * is valid only while the handler runs. A handler that keeps anything for later keeps
 * {@link #copy()}, an immutable snapshot, or copies the payloads it needs. Not thread-safe: read it
 * on the handling core.
 */
public interface Interrupt {
    /** {@return the core running the handler} */
    int cpu();

    /** {@return the vector taken} */
    Vector vector();

    /** {@return the saved state the core returns to (a view with the same lifetime as this one)} */
    TrapFrame frame();

    /** {@return the drained payloads, never null, unmodifiable} */
    List<Object> payloads();

    /** {@return an immutable snapshot of this entry and its frame, valid forever} */
    Interrupt copy();
}
