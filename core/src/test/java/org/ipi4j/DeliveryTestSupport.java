package org.ipi4j;

import java.util.concurrent.TimeUnit;

/** Observation helpers shared by tests in other packages: bounded waits, no fixed sleeps. */
public final class DeliveryTestSupport {
    private DeliveryTestSupport() {
    }

    /** Waits until the core is idle (polling or parked). */
    public static void waitUntilIdle(final Core core) {
        waitFor(core, false);
    }

    /** Waits until the core is parked. */
    public static void waitUntilParked(final Core core) {
        waitFor(core, true);
    }

    private static void waitFor(final Core core, final boolean parked) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (;;) {
            final Core.State s = core.state();
            if (s == Core.State.IDLE_PARKED || (!parked && s == Core.State.IDLE_POLLING)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("core never went idle: " + core.describe());
            }
            Thread.onSpinWait();
        }
    }
}
