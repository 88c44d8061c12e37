package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Backpressure for async callers: a per-core capacity of unanswered calls and a service group's
 * bound on calls in flight, each refusing a call whole (FAIL) or waiting for room until the
 * call's deadline (BLOCK); and a full queue at shutdown loses and hangs nothing.
 */
@Timeout(60)
class CallQueueBoundTest {
    static SmpCall bounded(final Machine m, final int capacity, final OverflowPolicy policy) {
        return SmpCall.builder(m).watchdog(Duration.ofSeconds(30)).queueCapacity(capacity, policy).install();
    }

    @Test
    void aFullCoreRefusesTheCallWholeUnderFail() throws Exception {
        try (Machine m = SmpCallTest.machine(3)) {
            final SmpCall smp = bounded(m, 2, OverflowPolicy.FAIL);
            assertThat(smp.queueCapacity()).isEqualTo(2);
            final AtomicInteger ran = new AtomicInteger();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> a = smp.runAsync(1, c -> ran.incrementAndGet());
            final CallCompletion<Void> b = smp.runAsync(1, c -> ran.incrementAndGet());
            assertThatThrownBy(() -> smp.runAsync(CpuSet.of(1, 2), c -> ran.incrementAndGet()))
                .isInstanceOfSatisfying(MailboxFullException.class, e -> {
                    assertThat(e.failed()).isEqualTo(CpuSet.of(1));
                    assertThat(e.vector()).isEqualTo(Vector.CALL_FUNCTION);
                    assertThat(e.getMessage()).contains("capacity of 2");
                });
            smp.run(2, c -> { }); // core 2 got nothing of the refused call
            deaf.close();
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            smp.run(CpuSet.of(1, 2), c -> { });
            assertThat(ran.get()).as("the refused multicast ran nowhere").isEqualTo(2);
            smp.runAsync(1, c -> ran.incrementAndGet()).get(10, TimeUnit.SECONDS); // answered calls gave their slots back
        }
    }

    @Test
    void underBlockACallWaitsForRoomUntilItsDeadline() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = bounded(m, 1, OverflowPolicy.BLOCK);
            final AtomicInteger ran = new AtomicInteger();
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> first = smp.runAsync(1, c -> ran.incrementAndGet());
            assertThatThrownBy(() -> smp.withDeadline(Duration.ofMillis(100)).runAsync(1, c -> ran.incrementAndGet()))
                .isInstanceOf(MailboxFullException.class).hasMessageContaining("until the call's deadline");
            final CompletableFuture<CallCompletion<Void>> waiting = CompletableFuture.supplyAsync(
                () -> smp.runAsync(1, c -> ran.incrementAndGet()));
            deaf.close(); // core 1 drains: the waiting caller gets the slot
            waiting.get(20, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
            first.get(10, TimeUnit.SECONDS);
            assertThat(ran.get()).isEqualTo(2);
        }
    }

    @RepeatedTest(20) // the room must be back before the future fails: a client that then calls again finds it
    void aCancelledOrTimedOutShareGivesItsSlotBack() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = bounded(m, 1, OverflowPolicy.FAIL);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> a = smp.runAsync(1, c -> { });
            assertThat(a.cancel()).isEqualTo(CpuSet.of(1));
            final CallCompletion<Void> b = smp.withDeadline(Duration.ofMillis(50)).runAsync(1, c -> { });
            assertThat(catchThrowable(() -> b.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(CallTimeoutException.class);
            final CallCompletion<Void> c = smp.runAsync(1, x -> { });
            deaf.close();
            c.get(10, TimeUnit.SECONDS);
        }
    }

    /** A caller waiting for room, and a full queue on a stuck core, at shutdown: nothing lost, nothing hangs. */
    @Test
    void aFullQueueAtShutdownLosesAndHangsNoCall() throws Exception {
        final Machine m = SmpCallTest.machine(2);
        final SmpCall smp = bounded(m, 1, OverflowPolicy.BLOCK);
        final AtomicInteger ran = new AtomicInteger();
        final IrqOffHold deaf = holdInterruptsOff(m.core(1));
        final CallCompletion<Void> queued = smp.runAsync(1, c -> ran.incrementAndGet());
        final CompletableFuture<CallCompletion<Void>> blocked = CompletableFuture.supplyAsync(
            () -> smp.runAsync(1, c -> ran.incrementAndGet()));
        m.shutdown(Duration.ofMillis(200));
        deaf.release();
        assertThat(catchThrowable(() -> queued.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(MachineClosedException.class);
        assertThat(catchThrowable(() -> blocked.get(10, TimeUnit.SECONDS))).as("the waiting caller is refused, nothing queued")
            .cause().isInstanceOf(MachineClosedException.class);
        assertThat(ran.get()).isZero();
    }

    @Test
    void aServiceGroupBoundsItsCallsInFlight() throws Exception {
        try (Machine m = SmpCallTest.machine(3)) {
            final SmpCall base = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat());
            final ServiceGroup group = ServiceGroup.of("reads", 2, OverflowPolicy.FAIL);
            final SmpCall smp = base.inGroup(group);
            assertThat(smp.group()).isSameAs(group);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> a = smp.runAsync(1, c -> { });
            final CallCompletion<Void> b = smp.runAsync(CpuSet.of(1, 2), c -> { });
            assertThat(group.inFlight()).isEqualTo(2);
            assertThatThrownBy(() -> smp.runAsync(2, c -> { })).isInstanceOf(MailboxFullException.class)
                .hasMessageContaining("service group reads");
            assertThat((int) base.call(2, c -> c)).as("calls outside the group are not bounded by it").isEqualTo(2);
            assertThatThrownBy(() -> smp.call(2, c -> c)).as("a waited call takes a place too")
                .isInstanceOf(MailboxFullException.class);
            deaf.close();
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            assertThat(group.inFlight()).isZero();
            smp.run(1, c -> { }); // a waited call takes a place and gives it back when it returns
            assertThat(group.inFlight()).isZero();
        }
    }

    @Test
    void aBlockingServiceGroupWaitsUntilTheDeadlineOrAPlaceFrees() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final ServiceGroup group = ServiceGroup.of("writes", 1, OverflowPolicy.BLOCK);
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat()).inGroup(group);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CallCompletion<Void> a = smp.runAsync(1, c -> { });
            assertThatThrownBy(() -> smp.withDeadline(Duration.ofMillis(100)).runAsync(1, c -> { }))
                .isInstanceOf(MailboxFullException.class);
            final CompletableFuture<CallCompletion<Void>> next = CompletableFuture.supplyAsync(() -> smp.runAsync(1, c -> { }));
            deaf.close();
            next.get(20, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
            a.get(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> ServiceGroup.of("x", 0, OverflowPolicy.FAIL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxInFlight");
        }
    }
}
