package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** trySend and custom idle strategies. */
@Timeout(60)
class ErgonomicsTest {
    static final Vector V = Vector.of(0x40);

    @Test
    void trySendAnswersFalseForAFullMailboxWithoutWaitingEvenUnderBlock() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).blockTimeout(Duration.ofSeconds(30)).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            final CountDownLatch two = new CountDownLatch(2);
            m.interrupts().register(V, irq -> irq.payloads().forEach(p -> {
                handled.incrementAndGet();
                two.countDown();
            }));
            try (var deaf = DeliveryTestSupport.holdInterruptsOff(m.core(1))) {
                assertThat(m.interrupts().trySend(1, V, "a")).isTrue();
                assertThat(m.interrupts().trySend(1, V, "b")).isTrue();
                assertThat(m.interrupts().trySend(1, V, "c")).as("full: answered at once, not after 30 s").isFalse();
                assertThat(m.interrupts().trySend(1, V, null)).as("a doorbell needs no room").isTrue();
            }
            DeliveryTestSupport.await(two);
            assertThatThrownBy(() -> m.interrupts().trySend(5, V, "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("core 5");
            m.core(1).submit(() -> Core.current().checkpoint()).get();
            assertThat(handled.get()).isEqualTo(2);
        }
    }

    @Test
    void anyAgronaIdleStrategyCanPollNeverParking() throws Exception {
        final IdlePolicy policy = IdlePolicy.custom(BusySpinIdleStrategy::new, Long.MAX_VALUE);
        assertThat(policy.pollRoundsBeforePark()).isEqualTo(Long.MAX_VALUE);
        try (Machine m = Machine.builder().cores(1).idlePolicy(policy).pinning(Pinning.NONE).build().start()) {
            final CountDownLatch seen = new CountDownLatch(1);
            m.interrupts().register(V, irq -> seen.countDown());
            DeliveryTestSupport.waitUntilIdle(m.core(0));
            m.interrupts().send(0, V, "x");
            DeliveryTestSupport.await(seen);
            assertThat(m.core(0).stats().unparkWakeups()).isZero();
        }
    }

    @Test
    void aCustomStrategyCanPollThenPark() throws Exception {
        final IdlePolicy policy = IdlePolicy.custom(() -> new BackoffIdleStrategy(10, 0, 1, 1), 10);
        try (Machine m = Machine.builder().cores(1).idlePolicy(policy).pinning(Pinning.NONE).build().start()) {
            final CountDownLatch seen = new CountDownLatch(1);
            m.interrupts().register(V, irq -> seen.countDown());
            DeliveryTestSupport.waitUntilParked(m.core(0));
            m.interrupts().send(0, V, "x");
            DeliveryTestSupport.await(seen);
        }
        assertThatThrownBy(() -> IdlePolicy.custom(null, 1)).isInstanceOf(NullPointerException.class).hasMessage("strategy");
        assertThatThrownBy(() -> IdlePolicy.custom(BusySpinIdleStrategy::new, -1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("roundsBeforePark");
    }
}
