package org.ipi4j;

import java.time.Duration;

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
}
