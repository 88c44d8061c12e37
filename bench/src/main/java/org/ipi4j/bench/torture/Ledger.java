package org.ipi4j.bench.torture;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The torture's bookkeeping: one slot per unit of work that may run (a payload on one target core,
 * a call's function on one target core, a task, a scheduler job), each with what the initiator
 * learned about it (accepted, refused, maybe) and how often it was seen running (a handler
 * recorded the payload, the shutdown report handed it back, the function or task started).
 *
 * <p>Ids are handed out in blocks: a send or a call takes one slot per core of the machine, so
 * that one payload object sent to several cores, or one call run on several, is told apart per
 * target ({@code base + cpu}) without any allocation on the handler side.
 *
 * <p>A slot is one {@code int}: bits 0-7 the outcome, 8-15 the {@link Torture.Kind}, 16-31 the
 * count of sightings. Every update is a single atomic operation, so handlers on any core,
 * initiators and the shutdown thread may record concurrently and nobody blocks (which matters in a
 * simulation, where a thread that blocks for real stops every other). Thread-safe.
 */
final class Ledger {
    /** Not targeted (a core of a block the send or call did not address): must never be seen. */
    static final int UNUSED = 0;
    /** Accepted: must be seen exactly once. */
    static final int EXPECTED = 1;
    /** Refused by an exception (or a false trySend): must never be seen. */
    static final int REFUSED = 2;
    /** Accepted but its fate is unknowable (a call that timed out on this core): seen at most once. */
    static final int MAYBE = 3;
    /** Handed out, outcome not known yet: must be resolved before the final check. */
    static final int PENDING = 4;
    /**
     * A call timed out without naming this core among "the cores that did not answer"
     * ({@code CallTimeoutException.cpus()}): so it answered, and must have run exactly once.
     */
    static final int ANSWERED = 5;

    private static final int CHUNK_BITS = 16;
    private static final int CHUNK = 1 << CHUNK_BITS;
    private static final int CHUNKS = 1 << 10;
    private static final int SEEN_ONE = 1 << 16;

    private final AtomicReferenceArray<AtomicIntegerArray> chunks = new AtomicReferenceArray<>(CHUNKS);
    private final AtomicLong next = new AtomicLong();

    /** {@return the most ids a ledger holds} */
    static long capacity() {
        return (long) CHUNKS * CHUNK;
    }

    /**
     * Hands out {@code n} consecutive ids of {@code kind}, all {@link #UNUSED}; returns the first,
     * or -1 when the ledger is full (the caller then does not issue the operation).
     */
    long allocate(final int n, final Torture.Kind kind) {
        final long base = next.getAndAdd(n);
        if (base + n > capacity()) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            slots(base + i).set(index(base + i), kind.ordinal() << 8);
        }
        return base;
    }

    /** {@return ids handed out so far} */
    long size() {
        return Math.min(next.get(), capacity());
    }

    /** Sets the outcome of {@code id}, keeping its kind and sightings. */
    void outcome(final long id, final int outcome) {
        final AtomicIntegerArray a = slots(id);
        final int i = index(id);
        int v;
        do {
            v = a.get(i);
        } while (!a.compareAndSet(i, v, (v & ~0xFF) | outcome));
    }

    /** One sighting of {@code id}: a handler got it, the report returned it, the function started. */
    void seen(final long id) {
        slots(id).getAndAdd(index(id), SEEN_ONE);
    }

    int outcomeOf(final long id) {
        return slots(id).get(index(id)) & 0xFF;
    }

    Torture.Kind kindOf(final long id) {
        return Torture.Kind.values()[(slots(id).get(index(id)) >>> 8) & 0xFF];
    }

    int seenCount(final long id) {
        return slots(id).get(index(id)) >>> 16;
    }

    private static int index(final long id) {
        return (int) (id & (CHUNK - 1));
    }

    private AtomicIntegerArray slots(final long id) {
        final int c = (int) (id >>> CHUNK_BITS);
        AtomicIntegerArray a = chunks.get(c);
        if (a == null) {
            final AtomicIntegerArray fresh = new AtomicIntegerArray(CHUNK);
            a = chunks.compareAndExchange(c, null, fresh);
            if (a == null) {
                a = fresh;
            }
        }
        return a;
    }
}
