package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.await;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.OverflowPolicy;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 1 of the call protocols (deadlines, cancel, bounded queues, service groups,
 * continuations, shutdown) where they meet each other and the broadcast shapes. Each test here
 * failed on the code it was written against, for the reason its comment states, and guards the
 * fix; the probes that held are in {@link Review1ProbeTest}.
 * The watchdog is 30 s throughout, so nothing here returns by the watchdog's terms by accident.
 */
@Timeout(60)
class Review1Test {
    static final Duration WATCHDOG = Duration.ofSeconds(30);

    static SmpCall install(final Machine m) {
        return SmpCall.install(m, WATCHDOG, Broadcast.flat());
    }

    // =====================================================================================
    // Findings
    // =====================================================================================

    /**
     * FINDING: an async call's deadline completes its future BEFORE it gives back the call's
     * service-group place (CallWait.expire fails the future, then answerClaimed releases it in
     * the last acknowledgement). A dependent stage that retries in the same group, the retry
     * pattern deadlines exist for, is refused with MailboxFullException ("has its 1 calls in
     * flight") although the only call in flight has just ended and none of its targets runs.
     * Under BLOCK the retry would block the timer thread, which is the thread that would free
     * the place: it waits out its whole deadline, and delays every other async deadline.
     */
    @RepeatedTest(3)
    void aRetryFromTheTimedOutFuturesStageFindsItsGroupPlaceFree() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final ServiceGroup group = ServiceGroup.of("rpc", 1, OverflowPolicy.FAIL);
            final SmpCall rpc = install(m).withDeadline(Duration.ofMillis(100)).inGroup(group);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> retry = new CompletableFuture<>();
            final CallCompletion<Void> first = rpc.runAsync(1, c -> { });
            first.whenComplete((v, e) -> {
                try {
                    rpc.runAsync(1, c -> { }).cancel();
                    retry.complete(null);
                } catch (Throwable t) {
                    retry.complete(t);
                }
            });
            assertThat(catchThrowable(() -> first.get(10, TimeUnit.SECONDS))).cause()
                .isInstanceOf(CallTimeoutException.class);
            final Throwable refused = retry.get(10, TimeUnit.SECONDS);
            deaf.close();
            assertThat(refused).as("the timed-out call's cancelled share is no longer in flight: the retry gets its place")
                .isNull();
        }
    }

    /** FINDING, the same for a per-core slot: the timed-out share still holds its slot when the future's stage runs. */
    @RepeatedTest(3)
    void aRetryFromTheTimedOutFuturesStageFindsItsQueueSlotFree() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = SmpCall.builder(m).watchdog(WATCHDOG).queueCapacity(1, OverflowPolicy.FAIL).install();
            final SmpCall rpc = smp.withDeadline(Duration.ofMillis(100));
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> retry = new CompletableFuture<>();
            final CallCompletion<Void> first = rpc.runAsync(1, c -> { });
            first.whenComplete((v, e) -> {
                try {
                    rpc.runAsync(1, c -> { }).cancel();
                    retry.complete(null);
                } catch (Throwable t) {
                    retry.complete(t);
                }
            });
            final Throwable refused = retry.get(10, TimeUnit.SECONDS);
            deaf.close();
            assertThat(refused).as("the cancelled share gave its slot back before its future completed").isNull();
        }
    }

    /**
     * FINDING, the BLOCK form of the one above, and what it does to every other deadline: the
     * timed-out future's stage (run on the layer's one timer thread) retries in its BLOCK group;
     * the place it waits for is freed only after the stage returns (CallWait.expire answers the
     * claimed share after failing the future), so the retry waits out its own deadline (2 s) and
     * is refused, and meanwhile the timer thread fires no other deadline: an unrelated async call
     * with a 100 ms deadline to the same deaf core is still incomplete a second later.
     */
    @Test
    void aBlockingRetryInATimedOutStageNeitherDeadlocksNorHoldsUpOtherDeadlines() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m);
            final ServiceGroup group = ServiceGroup.of("rpc", 1, OverflowPolicy.BLOCK);
            final SmpCall rpc = smp.withDeadline(Duration.ofMillis(100)).inGroup(group);
            final SmpCall retrying = smp.withDeadline(Duration.ofSeconds(2)).inGroup(group);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> retry = new CompletableFuture<>();
            final CountDownLatch inStage = new CountDownLatch(1);
            final CallCompletion<Void> first = rpc.runAsync(1, c -> { });
            first.whenComplete((v, e) -> {
                inStage.countDown();
                try {
                    retrying.runAsync(1, c -> { }).cancel();
                    retry.complete(null);
                } catch (Throwable t) {
                    retry.complete(t);
                }
            });
            await(inStage); // the timer thread is in the stage
            final CallCompletion<Void> other = smp.withDeadline(Duration.ofMillis(100)).runAsync(1, c -> { });
            final Throwable otherOutcome = catchThrowable(() -> other.get(1, TimeUnit.SECONDS));
            final Throwable refused = retry.get(10, TimeUnit.SECONDS);
            deaf.close();
            assertThat(otherOutcome).as("another call's 100 ms deadline fired within a second")
                .isInstanceOf(java.util.concurrent.ExecutionException.class).cause().isInstanceOf(CallTimeoutException.class);
            assertThat(refused).as("the retry got the place its timed-out predecessor no longer needs").isNull();
        }
    }

    /**
     * FINDING: thenApplyOn "returns at once", and "no core blocks" (CALLS.md), but when the
     * source is already complete, CallCompletion.thenApplyOn runs follow() on the calling
     * thread (whenComplete of a done future), which makes the continuation's call there; under a
     * BLOCK service group (or BLOCK queue capacity) that is full, the caller of thenApplyOn waits
     * for room, up to the view's deadline (here 20 s), instead of getting a future.
     */
    @Test
    void thenApplyOnReturnsAtOnceWhenTheSourceIsDoneAndTheGroupIsFull() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final ServiceGroup group = ServiceGroup.of("rpc", 1, OverflowPolicy.BLOCK);
            final SmpCall rpc = install(m).withDeadline(Duration.ofSeconds(20)).inGroup(group);
            final CallCompletion<Integer> source = rpc.callAsync(0, c -> 7);
            assertThat(source.get(10, TimeUnit.SECONDS)).isEqualTo(7);
            final CountDownLatch release = new CountDownLatch(1);
            final CallCompletion<Void> occupant = rpc.runAsync(1, c -> await(release)); // holds the group's one place
            final CompletableFuture<CallCompletion<Integer>> then = CompletableFuture.supplyAsync(
                () -> source.thenApplyOn(0, v -> v + 1));
            final Throwable t = catchThrowable(() -> then.get(3, TimeUnit.SECONDS));
            assertThat(t).as("thenApplyOn returned a future at once instead of waiting for the group's room").isNull();
            // The policy (CALLS.md): a continuation's call never waits for room; a full group refuses it.
            assertThat(catchThrowable(() -> then.get().get(10, TimeUnit.SECONDS))).cause()
                .isInstanceOf(org.ipi4j.interrupts.MailboxFullException.class).hasMessageContaining("service group rpc");
            release.countDown();
            occupant.get(10, TimeUnit.SECONDS);
            assertThat(source.thenApplyOn(0, v -> v + 1).get(10, TimeUnit.SECONDS)).as("with room, it runs").isEqualTo(8);
        }
    }

    /**
     * FINDING: withDeadline clamps the deadline (Math.min(deadline.toNanos(), Long.MAX_VALUE / 4),
     * SmpCall.java withDeadline), so a very long deadline is meant to be accepted; but
     * Duration.toNanos() throws ArithmeticException("long overflow") first, for any deadline
     * beyond ~292 years: a bad-argument exception that names no argument, from a value the
     * clamp was written to accept.
     */
    @Test
    void aVeryLongDeadlineIsClampedNotAnArithmeticOverflow() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = install(m);
            final Throwable t = catchThrowable(() -> smp.withDeadline(java.time.temporal.ChronoUnit.FOREVER.getDuration())
                .run(1, c -> { }));
            assertThat(t).as("a deadline of FOREVER is clamped, as withDeadline means to").isNull();
        }
    }
}
