package org.ipi4j;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A future that only the library completes: the futures handed out for tasks, scheduler jobs and
 * cross-core calls. Everything of {@link CompletableFuture} that reads or chains works; what would
 * complete, cancel or overwrite it from outside throws {@link UnsupportedOperationException}
 * ({@link #cancel} returns false and changes nothing), so a caller can never make
 * {@code join()} return a value the work did not produce. Dependent stages created from it are
 * ordinary futures. Thread-safe; completing it publishes everything the work did.
 */
public class ReadOnlyFuture<T> extends CompletableFuture<T> {
    private static final String WHY = "this future is completed by ipi4j when the work is done; "
        + "wait with get(timeout), or chain a dependent stage";

    /** For the library's subclasses. */
    protected ReadOnlyFuture() {
    }

    /**
     * Completes normally; for the library only.
     *
     * @param value the value
     * @return true if this call completed it
     */
    protected final boolean succeed(final T value) {
        return super.complete(value);
    }

    /**
     * Completes exceptionally; for the library only.
     *
     * @param error what the handler threw
     * @return true if this call completed it
     */
    protected final boolean fail(final Throwable error) {
        return super.completeExceptionally(error);
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final boolean complete(final T value) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final boolean completeExceptionally(final Throwable ex) {
        throw new UnsupportedOperationException(WHY);
    }

    /** The work cannot be cancelled once handed to a core: returns false and changes nothing. */
    @Override
    public final boolean cancel(final boolean mayInterruptIfRunning) {
        return false;
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final void obtrudeValue(final T value) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final void obtrudeException(final Throwable ex) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final CompletableFuture<T> completeAsync(final Supplier<? extends T> supplier, final Executor executor) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always */
    @Override
    public final CompletableFuture<T> completeAsync(final Supplier<? extends T> supplier) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always (it would complete this future) */
    @Override
    public final CompletableFuture<T> orTimeout(final long timeout, final TimeUnit unit) {
        throw new UnsupportedOperationException(WHY);
    }

    /** @throws UnsupportedOperationException always (it would complete this future) */
    @Override
    public final CompletableFuture<T> completeOnTimeout(final T value, final long timeout, final TimeUnit unit) {
        throw new UnsupportedOperationException(WHY);
    }

    /** Dependent stages are ordinary futures: the caller owns them. */
    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CompletableFuture<>();
    }
}
