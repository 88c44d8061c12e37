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

    /** The cores the call was sent to (after any per-core condition). */
    public CpuSet targets() {
        return targets;
    }

    /**
     * Rounds of IPIs the call needed to reach its farthest target so far: 0 for a purely local
     * call, 1 for flat, up to n for serial, up to {@code ceil(log_k n)} for a tree of fan-out k.
     * Final once the future is done.
     */
    public int rounds() {
        return rounds.get();
    }

    void reached(final int level) {
        rounds.accumulateAndGet(level, Math::max);
    }

    /** A completion that is already done (a call that was waited for). */
    static <T> CallCompletion<T> done(final CpuSet targets, final T result, final int rounds) {
        final CallCompletion<T> c = new CallCompletion<>(targets);
        c.reached(rounds);
        c.succeed(result);
        return c;
    }

    void finish(final T result) {
        succeed(result);
    }

    void finishExceptionally(final Throwable error) {
        fail(error);
    }
}
