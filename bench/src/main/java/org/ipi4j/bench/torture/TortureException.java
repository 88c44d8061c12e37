package org.ipi4j.bench.torture;

/**
 * What the torture's own code throws on purpose (a handler, a function, a condition, a job, a
 * hook that is told to fail), so that every check can tell a deliberate failure from one of the
 * library's. Carries no stack trace: it is thrown by the thousand and its origin is known.
 * Immutable, and so thread-safe.
 */
public final class TortureException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A deliberate failure.
     *
     * @param what where it was thrown, for the oops log
     */
    public TortureException(final String what) {
        super(what, null, false, false);
    }
}
