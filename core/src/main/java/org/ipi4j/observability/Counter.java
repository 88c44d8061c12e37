package org.ipi4j.observability;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A counter that one thread writes and any thread reads.
 *
 * <p>Single-writer: only the owning thread may call {@link #increment()}, {@link #add(long)} and
 * {@link #max(long)}; the write is a release store, so no locked instruction is paid on the
 * hot path. Readers get a value that was current at some recent point (acquire load), never a
 * torn one.
 */
public final class Counter {
    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(Counter.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long value;

    /** Adds one. Owner thread only. */
    public void increment() {
        VALUE.setRelease(this, value + 1);
    }

    /**
     * Adds {@code delta}. Owner thread only.
     *
     * @param delta the amount to add
     */
    public void add(final long delta) {
        VALUE.setRelease(this, value + delta);
    }

    /**
     * Raises the value to {@code candidate} if larger. Owner thread only.
     *
     * @param candidate the value to keep if larger
     */
    public void max(final long candidate) {
        if (candidate > value) {
            VALUE.setRelease(this, candidate);
        }
    }

    /** {@return the current value, from any thread} */
    public long get() {
        return (long) VALUE.getAcquire(this);
    }
}
