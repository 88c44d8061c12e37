package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * When disabling and re-enabling interrupts reads the clock: by default only a re-enable that an
 * interrupt was waiting for (it ends a delivery delay, which {@link Core#lastInterruptsEnabledAt()}
 * exists to measure); with {@link Machine.Builder#timeHandlers} every disable and re-enable, for
 * the interrupts-off maximum and the watchdog's "off for".
 */
@Timeout(60)
class InterruptsOffClockTest {
    static final Vector V = Vector.of(0x40);

    private static Machine machine(final boolean timed) {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).timeHandlers(timed)
            .build().start();
    }

    @Test
    void byDefaultAStretchWithNothingPendingIsNotTimed() throws Exception {
        try (Machine m = machine(false)) {
            final Core c = m.core(1);
            try (DeliveryTestSupport.IrqOffHold hold = DeliveryTestSupport.holdInterruptsOff(c)) {
                assertThat(c.describe()).contains("interrupts off").doesNotContain("interrupts off for");
            }
            assertThat(c.lastInterruptsEnabledAt()).isZero();
            assertThat(c.stats().maxIrqOffNanos()).isZero();
        }
    }

    @Test
    void byDefaultAReEnableThatReleasesAPendingInterruptIsStamped() throws Exception {
        try (Machine m = machine(false)) {
            final AtomicLong seenByHandler = new AtomicLong(-1);
            m.interrupts().register(V, irq -> seenByHandler.set(Core.current().lastInterruptsEnabledAt()));
            final Core c = m.core(1);
            final long sentAt;
            try (DeliveryTestSupport.IrqOffHold hold = DeliveryTestSupport.holdInterruptsOff(c)) {
                sentAt = m.timeline().nanoTime();
                m.interrupts().send(1, V, null); // raised when this returns; the core cannot take it yet
                assertThat(c.hasPendingInterrupts()).isTrue();
            } // the task re-enables, takes V at once, then completes: the handler's write is visible now
            assertThat(seenByHandler.get()).isGreaterThan(sentAt);
            assertThat(c.lastInterruptsEnabledAt()).isEqualTo(seenByHandler.get());
            assertThat(c.stats().maxIrqOffNanos()).isZero();
        }
    }

    @Test
    void timingHandlersTimesEveryStretch() throws Exception {
        try (Machine m = machine(true)) {
            final Core c = m.core(1);
            try (DeliveryTestSupport.IrqOffHold hold = DeliveryTestSupport.holdInterruptsOff(c)) {
                assertThat(c.describe()).contains("interrupts off for ");
            }
            assertThat(c.lastInterruptsEnabledAt()).isPositive();
            assertThat(c.stats().maxIrqOffNanos()).isPositive();
        }
    }

    /** The entry cleared the flag, not code: a handler's re-enable is not the end of a timed stretch. */
    @Test
    void aHandlerThatReEnablesInterruptsDoesNotCountAsAStretch() throws Exception {
        final long start = System.nanoTime();
        try (Machine m = machine(true)) {
            m.interrupts().register(V, irq -> Core.current().enableInterrupts());
            m.core(1).submit(() -> {
                m.interrupts().send(Shorthand.SELF, V, null);
                Core.current().checkpoint(); // taken here: the handler re-enables inside its entry
            }).get(10, TimeUnit.SECONDS);
            assertThat(m.core(1).stats().received()).isPositive();
            assertThat(m.core(1).stats().maxIrqOffNanos()).isLessThan(System.nanoTime() - start);
        }
    }
}
