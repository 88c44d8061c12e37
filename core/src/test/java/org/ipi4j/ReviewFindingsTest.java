package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.ipi4j.apic.Faults;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * Review findings on the composition of the closing protocol, cross-core calls and the rest of
 * the library. Each test fails on the code it was written against; its comment says why.
 */
@EndToEnd
@Timeout(60)
class ReviewFindingsTest {
    private static Machine.Builder builder(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE);
    }

    /**
     * A call function that re-enables interrupts must not be re-entered by CALL_FUNCTION: a nested
     * {@code onCallFunction} would take a new list and overwrite the queue's published cursor
     * ({@code hold}) and running node with its own, leaving the outer list's rest (B, batched
     * behind A) out of shutdown's reach while A never returns (found by review: B's future never
     * completed, and B ran after shutdown). A vector is now taken inside a handler only if its
     * priority class is above the one in service, as a local APIC does, so X waits for A's EOI.
     */
    @RepeatedTest(3)
    void aCallFunctionThatReenablesInterruptsIsNotReenteredAndShutdownReachesItsList() throws Exception {
        final Machine m = builder(2).build().start();
        final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat());
        final CountDownLatch aRunning = new CountDownLatch(1);
        final CountDownLatch xQueued = new CountDownLatch(1);
        final CountDownLatch reenabled = new CountDownLatch(1);
        final CountDownLatch releaseA = new CountDownLatch(1);
        final AtomicBoolean bRan = new AtomicBoolean();
        final AtomicBoolean xRan = new AtomicBoolean();
        // Core 1 deaf, so that A and B are taken by one handler entry as one list [A, B].
        final DeliveryTestSupport.IrqOffHold deaf = DeliveryTestSupport.holdInterruptsOff(m.core(1));
        final CallCompletion<Integer> a = smp.callAsync(1, cpu -> {
            aRunning.countDown();
            await(xQueued);
            Core.current().enableInterrupts(); // a boundary with interrupts on: X is pending
            Core.current().checkpoint();
            reenabled.countDown();
            await(releaseA); // then A "never" returns (until after the shutdown)
            return 1;
        });
        final CallCompletion<Integer> b = smp.callAsync(1, cpu -> {
            bRan.set(true);
            return 2;
        });
        deaf.release();
        DeliveryTestSupport.await(aRunning);
        final CallCompletion<Integer> x = smp.callAsync(1, cpu -> {
            xRan.set(true);
            return 3;
        });
        xQueued.countDown();
        DeliveryTestSupport.await(reenabled);
        assertThat(xRan).as("X did not run inside A").isFalse();
        final ShutdownReport report = m.shutdown(Duration.ofMillis(200));
        assertThat(report.stuckCores()).as("core 1 is stuck in A").isNotEmpty();
        assertThat(b).as("B, batched behind the stuck A, is answered when shutdown returns").isCompletedExceptionally();
        assertThat(x).as("X, queued behind the stuck A, is answered when shutdown returns").isCompletedExceptionally();
        releaseA.countDown(); // A returns; core 1 goes on with the rest of its list
        assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        DeliveryTestSupport.waitUntilHalted(m.core(1));
        assertThat(bRan).as("B must not run after shutdown gave it up").isFalse();
        assertThat(xRan).as("X must not run after shutdown gave it up").isFalse();
    }

    /**
     * An injected handler failure on CALL_FUNCTION (FaultInjectionTest: "the core goes on")
     * clears the pending bit but leaves the call queue as it was: the next caller finds the queue
     * non-empty, coalesces, sends no IPI, and its call (like the first) never runs. An async call
     * has no watchdog: its future never completes while the machine runs.
     */
    @RepeatedTest(3)
    void afterAFailedCallFunctionEntryTheNextAsyncCallStillRuns() throws Exception {
        final Faults faults = new Faults(2);
        final Machine m = builder(2).faults(faults).build().start();
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat());
            faults.failHandlers(1, 1);
            final CallCompletion<Integer> first = smp.callAsync(1, cpu -> 1);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (m.oopsRecorded() == 0) {
                assertThat(System.nanoTime() - deadline).isNegative();
                Thread.onSpinWait();
            }
            final CallCompletion<Integer> second = smp.callAsync(1, cpu -> 2);
            assertThat(second).as("the core goes on after a failed handler entry: a new call runs")
                .succeedsWithin(Duration.ofSeconds(5)).isEqualTo(2);
            assertThat(first.isDone()).as("the call the failed entry did not take runs with the next one").isTrue();
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
    }

    private static void await(final CountDownLatch l) {
        try {
            if (!l.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("latch timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
