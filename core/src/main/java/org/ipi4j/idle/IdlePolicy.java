package org.ipi4j.idle;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;

/**
 * How a core with nothing to do waits for work: the polling-versus-signal trade-off.
 *
 * <ul>
 *   <li>{@link #spin()}: busy-poll the pending bits. Lowest wake latency, one host CPU burned;
 *       senders never make a system call.</li>
 *   <li>{@link #poll(Duration)}: look at the pending bits every {@code interval}, sleeping in
 *       between. Senders never make a system call; a request waits up to one interval.</li>
 *   <li>{@link #park()}: sleep until a sender unparks the core. No CPU burned while idle; every
 *       wake-up costs the sender an unpark and the core a reschedule.</li>
 *   <li>{@link #adaptive(int, int)}: spin, then yield, then park (the last stage needs an
 *       unpark).</li>
 * </ul>
 *
 * <p>The polling stages reuse Agrona's idle strategies. Immutable and thread-safe; a core asks
 * for its own {@link #pollingStrategy()} instance.
 */
public final class IdlePolicy {
    /** The families of waiting. */
    /** Which factory method made a policy: {@code SPIN}, {@code POLL}, {@code PARK}, {@code ADAPTIVE} or {@code CUSTOM}. */
    public enum Kind {
        /** {@link IdlePolicy#spin()}. */
        SPIN,
        /** {@link IdlePolicy#poll(Duration)}. */
        POLL,
        /** {@link IdlePolicy#park()}. */
        PARK,
        /** {@link IdlePolicy#adaptive(int, int)}. */
        ADAPTIVE,
        /** {@link IdlePolicy#custom(Supplier, long)}. */
        CUSTOM
    }

    private final Kind kind;
    private final long intervalNanos;
    private final int spins;
    private final int yields;
    private final Supplier<? extends IdleStrategy> strategy;
    private final long customRounds;

    private IdlePolicy(final Kind kind, final long intervalNanos, final int spins, final int yields) {
        this(kind, intervalNanos, spins, yields, null, 0);
    }

    private IdlePolicy(final Kind kind, final long intervalNanos, final int spins, final int yields,
                       final Supplier<? extends IdleStrategy> strategy, final long customRounds) {
        this.kind = kind;
        this.intervalNanos = intervalNanos;
        this.spins = spins;
        this.yields = yields;
        this.strategy = strategy;
        this.customRounds = customRounds;
    }

    /**
     * Polls with any Agrona {@link IdleStrategy} ({@code strategy} makes one per core: they keep
     * state), then parks after {@code roundsBeforePark} idle rounds ({@link Long#MAX_VALUE}: never
     * park, senders never make a system call).
     *
     * @param strategy makes each core's Agrona idle strategy
     * @param roundsBeforePark idle rounds of the strategy before the core parks (Long.MAX_VALUE: never)
     * @return the policy
     * @throws IllegalArgumentException if {@code roundsBeforePark} is negative
     */
    public static IdlePolicy custom(final Supplier<? extends IdleStrategy> strategy, final long roundsBeforePark) {
        Objects.requireNonNull(strategy, "strategy");
        if (roundsBeforePark < 0) {
            throw new IllegalArgumentException("roundsBeforePark must be >= 0, not " + roundsBeforePark);
        }
        return new IdlePolicy(Kind.CUSTOM, 0, 0, 0, strategy, roundsBeforePark);
    }

    /**
     * Busy polling: the core never sleeps.
     *
     * @return the policy
     */
    public static IdlePolicy spin() {
        return new IdlePolicy(Kind.SPIN, 0, 0, 0);
    }

    /**
     * Periodic polling every {@code interval}: no sender ever wakes the core.
     *
     * @param interval how long to sleep between polls
     * @return the policy
     * @throws IllegalArgumentException if the interval is not positive
     */
    public static IdlePolicy poll(final Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive: " + interval);
        }
        return new IdlePolicy(Kind.POLL, interval.toNanos(), 0, 0);
    }

    /**
     * Park until unparked by a sender.
     *
     * @return the policy
     */
    public static IdlePolicy park() {
        return new IdlePolicy(Kind.PARK, 0, 0, 0);
    }

    /**
     * Spin {@code spins} times, yield {@code yields} times, then park until unparked.
     *
     * @param spins busy spins before parking
     * @param yields Thread.yield() calls after the spins, before parking
     * @return the policy
     */
    public static IdlePolicy adaptive(final int spins, final int yields) {
        if (spins < 0 || yields < 0) {
            throw new IllegalArgumentException("spins and yields must be >= 0, not spins " + spins + ", yields " + yields);
        }
        return new IdlePolicy(Kind.ADAPTIVE, 0, spins, yields);
    }

    /**
     * Adaptive with 200 spins and no yields. No yields because, measured by the lab on Linux
     * 6.x (EEVDF), a thread that called {@code Thread.yield()} just before parking wakes several
     * times slower when unparked (run the lab's {@code ipi-adaptive-yield} variant to see it on
     * your host).
     *
     * @return the policy
     */
    public static IdlePolicy adaptive() {
        return adaptive(200, 0);
    }

    /** {@return which of the factory methods made this policy} */
    public Kind kind() {
        return kind;
    }

    /** {@return poll interval in nanoseconds ({@link Kind#POLL} only)} */
    public long intervalNanos() {
        return intervalNanos;
    }

    /**
     * How many idle rounds the core polls before it parks and needs an unpark:
     * {@link Long#MAX_VALUE} for policies that never park, 0 for {@link Kind#PARK}.
     *
     * @return the rounds, or {@code Long.MAX_VALUE} for a policy that never parks
     */
    public long pollRoundsBeforePark() {
        return switch (kind) {
            case SPIN, POLL -> Long.MAX_VALUE;
            case PARK -> 0;
            case ADAPTIVE -> (long) spins + yields;
            case CUSTOM -> customRounds;
        };
    }

    /** {@return a fresh Agrona strategy for the polling stage of this policy (one per core)} */
    public IdleStrategy pollingStrategy() {
        return switch (kind) {
            case SPIN, PARK -> new BusySpinIdleStrategy();
            case POLL -> new SleepingIdleStrategy(intervalNanos);
            // Agrona's backoff spins maxSpins times, then yields maxYields times; we park
            // ourselves after spins+yields rounds, so its own parking stage is never reached.
            case ADAPTIVE -> new BackoffIdleStrategy(spins, yields, 1, 1);
            case CUSTOM -> Objects.requireNonNull(strategy.get(), "the strategy supplier returned null");
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case SPIN -> "spin";
            case POLL -> "poll(" + intervalNanos / 1000 + "us)";
            case PARK -> "park";
            case ADAPTIVE -> "adaptive(" + spins + "," + yields + ")";
            case CUSTOM -> "custom(" + (customRounds == Long.MAX_VALUE ? "never parks" : customRounds + " rounds, then park") + ")";
        };
    }
}
