package org.ipi4j.apic;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link FaultInjector} driven from a test: freeze a core for a while, delay its deliveries,
 * lose its next wake-ups, make its handlers throw. Every method is thread-safe and may be called
 * while the machine runs; counters say how often each fault struck.
 */
public final class Faults implements FaultInjector {
    private final int cores;
    private final AtomicLongArray frozenUntil;
    private final AtomicLongArray deliveryDelayNanos;
    private final AtomicIntegerArray wakeupsToDrop;
    private final AtomicIntegerArray handlerFailures;
    private final LongAdder droppedWakeups = new LongAdder();
    private final LongAdder frozenBoundaries = new LongAdder();
    private final LongAdder delayedDeliveries = new LongAdder();

    /**
     * Faults for a machine of {@code cores} cores (none armed).
     *
     * @param cores the number of cores
     */
    public Faults(final int cores) {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be at least 1, not " + cores);
        }
        this.cores = cores;
        this.frozenUntil = new AtomicLongArray(cores);
        this.deliveryDelayNanos = new AtomicLongArray(cores);
        this.wakeupsToDrop = new AtomicIntegerArray(cores);
        this.handlerFailures = new AtomicIntegerArray(cores);
    }

    private int check(final int cpu) {
        if (cpu < 0 || cpu >= cores) {
            throw new IllegalArgumentException("core " + cpu + " does not exist: these faults are for "
                + cores + " cores (0-" + (cores - 1) + ")");
        }
        return cpu;
    }

    /**
     * Freezes core {@code cpu} from its next boundary for {@code duration} (a descheduled vCPU).
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param duration how long
     * @return this object
     */
    public Faults freeze(final int cpu, final Duration duration) {
        Objects.requireNonNull(duration, "duration");
        frozenUntil.set(check(cpu), System.nanoTime() + duration.toNanos());
        return this;
    }

    /**
     * Ends a freeze at once.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @return this object
     */
    public Faults thaw(final int cpu) {
        frozenUntil.set(check(cpu), 0);
        return this;
    }

    /**
     * Delays every delivery on core {@code cpu} by {@code delay} (zero: no delay).
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param delay how late each delivery is taken (zero: not delayed)
     * @return this object
     */
    public Faults delayDeliveries(final int cpu, final Duration delay) {
        Objects.requireNonNull(delay, "delay");
        deliveryDelayNanos.set(check(cpu), delay.toNanos());
        return this;
    }

    /**
     * Loses the next {@code count} wake-ups of core {@code cpu}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param count how many wake-ups
     * @return this object
     */
    public Faults dropWakeups(final int cpu, final int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, not " + count);
        }
        wakeupsToDrop.set(check(cpu), count);
        return this;
    }

    /**
     * Makes the next {@code count} handler entries on core {@code cpu} throw.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param count how many handler entries
     * @return this object
     */
    public Faults failHandlers(final int cpu, final int count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, not " + count);
        }
        handlerFailures.set(check(cpu), count);
        return this;
    }

    /** {@return wake-ups lost so far} */
    public long droppedWakeups() {
        return droppedWakeups.sum();
    }

    /** {@return boundaries at which a core found itself frozen} */
    public long frozenBoundaries() {
        return frozenBoundaries.sum();
    }

    /** {@return deliveries that were delayed} */
    public long delayedDeliveries() {
        return delayedDeliveries.sum();
    }

    @Override
    public void atBoundary(final int cpu) {
        long until = frozenUntil.get(cpu);
        if (until == 0) {
            return;
        }
        frozenBoundaries.increment();
        long left;
        while ((until = frozenUntil.get(cpu)) != 0 && (left = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(this, Math.min(left, 1_000_000L)); // re-reads: thaw() ends it early
        }
        frozenUntil.compareAndSet(cpu, until, 0);
    }

    @Override
    public void beforeDelivery(final int cpu, final int vector) {
        final long delay = deliveryDelayNanos.get(cpu);
        if (delay > 0) {
            delayedDeliveries.increment();
            LockSupport.parkNanos(this, delay);
        }
    }

    @Override
    public void inHandler(final int cpu, final int vector) {
        if (handlerFailures.get(cpu) > 0 && handlerFailures.getAndDecrement(cpu) > 0) {
            throw new IllegalStateException("fault injected: handler for vector " + vector + " on core " + cpu + " throws");
        }
    }

    @Override
    public boolean dropWakeup(final int cpu) {
        if (wakeupsToDrop.get(cpu) > 0 && wakeupsToDrop.getAndDecrement(cpu) > 0) {
            droppedWakeups.increment();
            return true;
        }
        return false;
    }
}
