package org.ipi4j.smp;

import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.ReadOnlyFuture;
import org.ipi4j.interrupts.CpuSet;

/**
 * The completion of a cross-core call: a read-only future that completes when every target has
 * run the function (exceptionally with {@link SmpCallException} if any threw), plus what the call
 * looked like. Only the library completes it. Completing it is the acknowledgement: everything the targets wrote
 * in the function happens-before {@code join()} returns.
 */
public final class CallCompletion<T> extends ReadOnlyFuture<T> {
    private final CpuSet targets;
    private final AtomicInteger rounds = new AtomicInteger();

    CallCompletion(final CpuSet targets) {
        this.targets = targets;
    }

    /** {@return the cores the call was sent to (after any per-core condition)} */
    public CpuSet targets() {
        return targets;
    }

    /**
     * Rounds of IPIs the call needed to reach its farthest target so far: 0 for a purely local
     * call, 1 for flat, up to n for serial, up to {@code ceil(log_k n)} for a tree of fan-out k.
     * Final once the future is done.
     *
     * @return the rounds so far
     */
    public int rounds() {
        return rounds.get();
    }

    void reached(final int level) {
        rounds.accumulateAndGet(level, Math::max);
    }

    void finish(final T result) {
        succeed(result);
    }

    void finishExceptionally(final Throwable error) {
        fail(error);
    }
}
