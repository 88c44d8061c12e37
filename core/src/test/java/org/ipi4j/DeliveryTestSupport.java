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

    /** Under {@link org.ipi4j.idle.IdlePolicy#park()}, waits for the parked state itself, not the moment before it. */
    public static void waitUntilIdle(final Core core, final org.ipi4j.idle.IdlePolicy policy) {
        waitFor(core, policy.kind() == org.ipi4j.idle.IdlePolicy.Kind.PARK);
    }

    /** Awaits {@code latch} for at most 10 s, failing the test otherwise. */
    public static void await(final java.util.concurrent.CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("latch timed out");
            }
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits, bounded, until the host stopped {@code core} (a preemption took effect). */
    public static void waitUntilPreempted(final Core core) {
        waitForState(core, "stops", Core::isPreempted);
    }

    /** Waits, bounded, until {@code core}'s thread has ended (after shutdown). */
    public static void waitUntilHalted(final Core core) {
        waitForState(core, "halts", c -> c.state() == Core.State.HALTED);
    }

    private static void waitForState(final Core core, final String what, final java.util.function.Predicate<Core> done) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!done.test(core)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(core.describe() + " never " + what);
            }
            Thread.onSpinWait();
        }
    }

    /** Waits until the core is parked. */
    public static void waitUntilParked(final Core core) {
        waitFor(core, true);
    }

    /** A core held in a task with interrupts disabled until {@link #close()}. */
    public static final class IrqOffHold implements AutoCloseable {
        private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        private java.util.concurrent.CompletableFuture<Void> task;

        /** Re-enables interrupts without waiting for the task to end (what the core takes then may not return). */
        public void release() {
            release.countDown();
        }

        @Override
        public void close() throws Exception {
            release.countDown();
            task.get(10, TimeUnit.SECONDS);
        }
    }

    /** Returns once {@code core} runs a task with interrupts disabled; closing re-enables them. */
    public static IrqOffHold holdInterruptsOff(final Core core) throws InterruptedException {
        final IrqOffHold hold = new IrqOffHold();
        final java.util.concurrent.CountDownLatch off = new java.util.concurrent.CountDownLatch(1);
        hold.task = core.submit(() -> {
            final Core c = Core.current();
            final boolean flags = c.disableInterrupts();
            off.countDown();
            try {
                if (!hold.release.await(30, TimeUnit.SECONDS)) {
                    throw new AssertionError("interrupts-off hold never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                c.restoreInterrupts(flags);
            }
        });
        if (!off.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("core never disabled interrupts: " + core.describe());
        }
        return hold;
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
