package org.ipi4j;

import java.time.Duration;
import java.util.Objects;

/** Durations as nanoseconds that a deadline can be built from without overflow. */
final class Deadlines {
    private Deadlines() {
    }

    /** {@code d} in nanoseconds, or Long.MAX_VALUE / 2 if it is longer (about 146 years): a deadline never overflows. */
    static long saturatedNanos(final Duration d) {
        try {
            return Math.min(Math.max(0, d.toNanos()), Long.MAX_VALUE / 2);
        } catch (ArithmeticException e) {
            return d.isNegative() ? 0 : Long.MAX_VALUE / 2;
        }
    }

    /**
     * A timer's delay or period in nanoseconds, checked: at most Long.MAX_VALUE / 4, so that a due
     * time (now plus it) and its differences with the clock never overflow.
     *
     * @param d the duration
     * @param name the parameter's name, for the message
     * @param zeroAllowed true for a delay (0 is "at once"), false for a period
     * @throws IllegalArgumentException if it is negative, or zero where not allowed
     */
    static long timerNanos(final Duration d, final String name, final boolean zeroAllowed) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            throw new IllegalArgumentException(name + " must be " + (zeroAllowed ? "at least 0" : "positive") + ", not " + d);
        }
        return Math.min(saturatedNanos(d), Long.MAX_VALUE / 4);
    }
}
