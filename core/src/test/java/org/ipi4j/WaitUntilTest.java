package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class WaitUntilTest {
    static Machine machine() {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start();
    }

    @RepeatedTest(20)
    void aParkedWaitIsWokenByWhoeverMakesTheConditionTrue() throws Exception {
        try (Machine m = machine()) {
            final AtomicBoolean flag = new AtomicBoolean();
            final CompletableFuture<Boolean> waited = m.core(1).submit(
                () -> Core.current().waitUntil(flag::get, System.nanoTime() + TimeUnit.SECONDS.toNanos(30)));
            DeliveryTestSupport.waitUntilParked(m.core(1));
            flag.set(true);
            m.core(1).wake();
            assertThat(waited.get(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void interruptsAreTakenWhileWaitingAndTheDeadlineEndsTheWait() throws Exception {
        try (Machine m = machine()) {
            final AtomicInteger handled = new AtomicInteger();
            final Vector v = Vector.of(0x40);
            m.interrupts().register(v, irq -> handled.incrementAndGet());
            final CompletableFuture<Boolean> waited = m.core(1).submit(
                () -> Core.current().waitUntil(() -> handled.get() == 3, System.nanoTime() + TimeUnit.SECONDS.toNanos(30)));
            for (int i = 0; i < 3; i++) {
                DeliveryTestSupport.waitUntilParked(m.core(1));
                m.interrupts().send(1, v, null);
                final int target = i + 1;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (handled.get() < target && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
            assertThat(waited.get(10, TimeUnit.SECONDS)).isTrue();
            final boolean timedOut = m.core(0).submit(
                () -> Core.current().waitUntil(() -> false, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20)))
                .get(10, TimeUnit.SECONDS);
            assertThat(timedOut).isFalse();
            assertThatThrownBy(() -> m.core(0).waitUntil(() -> true, 0)).isInstanceOf(IllegalStateException.class);
        }
    }
}
