package org.ipi4j.smp;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import org.ipi4j.ReadOnlyFuture;
import org.ipi4j.interrupts.CpuSet;

/**
 * The completion of a cross-core call: a read-only future that completes when every target has
 * answered, plus what the call looked like. Only the library completes it. Completing it is the
 * acknowledgement: everything the targets wrote in the function happens-before {@code join()}
 * returns (or throws).
 *
 * <h2>It always completes</h2>
 * Normally with the function's result once every target ran it; exceptionally with one exception
 * for how the call ended: {@link org.ipi4j.interrupts.MachineClosedException} if the machine
 * shut down before a target ran it, {@link CallTimeoutException} at the deadline of a call made
 * through {@link SmpCall#withDeadline} (at the deadline, whether or not anyone waits, even if a
 * target is still running), {@link CallCancelledException} after {@link #cancel()} (once the
 * targets that had started finish), else {@link SmpCallException} if a function threw.
 *
 * <h2>Continuations on a chosen core</h2>
 * {@link #thenApplyOn} runs a function on a chosen core with this call's result, as a call of its
 * own made when this one completes: the pattern for "a request on core A needs core B"
 * ({@code smp.callAsync(b, read).thenApplyOn(a, reply)}), without blocking any core.
 */
public final class CallCompletion<T> extends ReadOnlyFuture<T> {
    /** A continuation cancelled before its call was made. */
    private static final Object CANCELLED = new Object();
    /** A continuation whose source completed: its call is being made (or it fails with the source). */
    private static final Object FOLLOWING = new Object();

    private final CpuSet targets;
    private final AtomicInteger rounds = new AtomicInteger();
    /** The call this future completes, or null for a continuation (its call is in {@link #next}). */
    private final Call call;
    /** The layer (and its deadline and group) the call was made through: continuations use it too. */
    private final SmpCall layer;
    /**
     * A continuation's state, set once from null by one CAS: CANCELLED (by {@link #cancel}) or
     * FOLLOWING (its source completed); after FOLLOWING, the call's future once made.
     */
    private final AtomicReference<Object> next;

    CallCompletion(final CpuSet targets, final Call call, final SmpCall layer) {
        this.targets = targets;
        this.call = call;
        this.layer = layer;
        this.next = call == null ? new AtomicReference<>() : null;
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

    /**
     * Removes the targets that have not started the function: each is claimed with the one CAS
     * its target takes to start, so it never runs there. Targets that had started finish; then
     * the future completes with a {@link CallCancelledException} naming both (unless the call
     * had already ended otherwise). For a continuation: cancels its call if it was made, or
     * makes sure it never is. Any thread, any number of times.
     *
     * @return the targets this cancel removed (empty if all had started or answered)
     */
    public CpuSet cancel() {
        if (call != null) {
            return call.cancel();
        }
        for (;;) {
            final Object n = next.get();
            if (n == null) {
                if (next.compareAndSet(null, CANCELLED)) { // partner: follow's CAS; one of them makes the call's fate
                    fail(new CallCancelledException(CpuSet.empty(), targets));
                    return targets;
                }
            } else {
                // FOLLOWING: the call is being made, as good as started; once made, it cancels.
                return n instanceof CallCompletion<?> c ? c.cancel() : CpuSet.empty();
            }
        }
    }

    /**
     * When this call completes normally, runs {@code fn} on core {@code cpu} with its result, as
     * an async call through the same layer (same deadline, same service group); returns at once.
     * The returned future completes in every case: with what {@code fn} returned; with this
     * call's exception if it failed (then {@code fn} never runs); with {@link SmpCallException}
     * if {@code fn} threw; with {@link org.ipi4j.interrupts.MachineClosedException} if the
     * machine closed first; with whatever refused the second call (a full queue or group: the
     * second call never waits for room, even under {@code BLOCK}, since it is made from whichever
     * thread completes this call, a core's handler or the deadline timer among them, and here if
     * this call is done already).
     * {@code fn} runs in interrupt context on {@code cpu}, like any call's function.
     *
     * @param cpu the core to run {@code fn} on
     * @param fn given this call's result
     * @param <U> its result type
     * @return the continuation's future
     * @throws IllegalArgumentException if the core does not exist
     */
    public <U> CallCompletion<U> thenApplyOn(final int cpu, final Function<? super T, ? extends U> fn) {
        Objects.requireNonNull(fn, "fn");
        layer.machine().core(cpu); // throws for a core outside the machine, before anything happens
        final CallCompletion<U> then = new CallCompletion<>(CpuSet.of(cpu), null, layer);
        // Made from whichever thread completes this future (here, if it is done already; a core's
        // handler; the deadline timer): its call never waits for room, a full core or group refuses it.
        final SmpCall now = layer.withoutWaitingForRoom();
        whenComplete((value, error) -> then.follow(error, () -> now.callAsync(cpu, c -> fn.apply(value))));
        return then;
    }

    /** A continuation's source completed: makes its call (unless it failed or was cancelled) and completes with it. */
    private void follow(final Throwable error, final Supplier<CallCompletion<T>> make) {
        // NOTE: the claim comes before the call is made: a cancel that lost it must not be told
        // "cancelled" while the call it never saw goes out and runs.
        if (!next.compareAndSet(null, FOLLOWING)) {
            return; // cancelled first: this future failed already, and the call is never made
        }
        if (error != null) {
            fail(error);
            return;
        }
        final CallCompletion<T> c;
        try {
            c = make.get();
        } catch (RuntimeException | Error e) { // the machine closed, or a full queue or group refused it
            fail(e);
            return;
        }
        next.set(c); // from here a cancel reaches the call itself
        c.whenComplete((v, e) -> {
            if (e != null) {
                fail(e);
            } else {
                succeed(v);
            }
        });
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
