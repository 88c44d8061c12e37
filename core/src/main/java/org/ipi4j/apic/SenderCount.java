package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Cache lines of padding before the count (JCTools-style padding by inheritance). */
abstract class SenderCountPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07;
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

/** The count itself, alone on its line. */
abstract class SenderCountValue extends SenderCountPadBefore {
    volatile long value;
}

/**
 * A statistic that senders add to on every send (wake-ups elided or made, VM exits): an atomic
 * count on a cache line of its own. A sender's add is then a write to a line only senders touch;
 * without the padding the counter sat next to whatever was allocated after it (the core's
 * registers in {@link CpuContext}, which the core writes at every interrupt), and every send
 * pulled that line away from the receiving core. The count orders nothing: readers get a recent
 * value. Thread-safe.
 */
final class SenderCount extends SenderCountValue {
    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(SenderCountValue.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long q00, q01, q02, q03, q04, q05, q06, q07;
    long q10, q11, q12, q13, q14, q15, q16, q17;

    /** Adds one. Any thread. */
    void increment() {
        VALUE.getAndAdd(this, 1L);
    }

    /**
     * Adds {@code delta}. Any thread.
     *
     * @param delta the amount
     */
    void add(final long delta) {
        VALUE.getAndAdd(this, delta);
    }

    /** {@return the count: a recent value} */
    long sum() {
        return (long) VALUE.getOpaque(this);
    }
}
