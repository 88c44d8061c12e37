package org.ipi4j.apic;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.Vector;

/**
 * The interrupt descriptor table behind {@link InterruptController}'s register, onException and
 * checks: a handler per IPI vector (32–255), an exception handler per exception vector (0–31).
 *
 * <p>Thread-safety: lookups are volatile reads from any thread; an IPI handler is published with a
 * volatile store after the mailboxes it needs, so a sender that sees the handler sees them
 * (partner: {@link #checkSendable}'s read). The controller serialises registration.
 */
final class Idt {
    private static final ExceptionHandler KILL = fault -> ExceptionHandler.Action.KILL;

    private final AtomicReferenceArray<InterruptHandler> handlers = new AtomicReferenceArray<>(Vector.COUNT);
    private final AtomicReferenceArray<ExceptionHandler> exceptions = new AtomicReferenceArray<>(Vector.FIRST_IPI);

    /** Gives every port a mailbox for {@code vector}, then publishes {@code handler}. Serialised by the caller. */
    void register(final Vector vector, final InterruptHandler handler, final CpuPort[] ports, final int capacity) {
        Objects.requireNonNull(vector, "vector");
        Objects.requireNonNull(handler, "handler");
        if (vector.isException()) {
            throw new IllegalArgumentException(vector + " is reserved for exceptions; use onException()");
        }
        if (handlers.get(vector.number()) != null) {
            throw new IllegalStateException(vector + " already has a handler");
        }
        for (final CpuPort port : ports) {
            port.apic().enable(vector.number(), capacity);
        }
        // Published last (volatile): a sender that sees the handler sees the mailboxes.
        handlers.set(vector.number(), handler);
    }

    boolean isRegistered(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        return handlers.get(vector.number()) != null;
    }

    /** {@return the handler of IPI vector {@code v}, registered before any send to it} */
    InterruptHandler handler(final int v) {
        return handlers.get(v);
    }

    void onException(final Vector vector, final ExceptionHandler handler) {
        Objects.requireNonNull(vector, "vector");
        Objects.requireNonNull(handler, "handler");
        if (!vector.isException()) {
            throw new IllegalArgumentException(vector + " is not an exception vector (0-31)");
        }
        exceptions.set(vector.number(), handler);
    }

    ExceptionHandler exceptionHandler(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        final ExceptionHandler h = exceptions.get(vector.number());
        return h == null ? KILL : h;
    }

    /** Refuses an exception vector and a vector with no handler, before anything is sent. */
    void checkSendable(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        if (vector.isException()) {
            throw new IllegalArgumentException(vector + " is reserved for exceptions and cannot be sent");
        }
        if (handlers.get(vector.number()) == null) {
            throw new IllegalArgumentException(vector + " has no handler registered");
        }
    }
}
