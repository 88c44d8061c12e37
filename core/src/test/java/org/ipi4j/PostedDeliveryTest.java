package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.apic.LocalApic;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Posted-interrupt delivery: one ON bit per core for every vector, SN while preempted. */
@Timeout(60)
class PostedDeliveryTest {
    static final Vector[] VECTORS = {Vector.of(0x40), Vector.of(0x41), Vector.of(0x42)};

    static Machine machine(final DeliveryMode mode) {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).deliveryMode(mode)
            .build().start();
    }

    static CountDownLatch registerAll(final Machine m, final int expected) {
        final CountDownLatch seen = new CountDownLatch(expected);
        for (final Vector v : VECTORS) {
            m.interrupts().register(v, irq -> seen.countDown());
        }
        return seen;
    }

    @Test
    void oneNotificationCoversEveryVectorUntilTheCoreLooksAgain() throws Exception {
        for (final DeliveryMode mode : DeliveryMode.values()) {
            try (Machine m = machine(mode)) {
                final CountDownLatch seen = registerAll(m, 3);
                final LocalApic apic = m.interrupts().apic(1);
                final long signalled;
                final long notified;
                final long suppressed;
                try (var deaf = DeliveryTestSupport.holdInterruptsOff(m.core(1))) {
                    // Only these three sends are counted (waking core 1 for the hold task was a send too).
                    final long before = m.core(1).stats().unparkWakeups() + m.core(1).stats().elidedWakeups();
                    final long notifiedBefore = apic.notifications();
                    final long suppressedBefore = apic.suppressedNotifications();
                    for (final Vector v : VECTORS) {
                        m.interrupts().send(1, v, null);
                    }
                    signalled = m.core(1).stats().unparkWakeups() + m.core(1).stats().elidedWakeups() - before;
                    notified = apic.notifications() - notifiedBefore;
                    suppressed = apic.suppressedNotifications() - suppressedBefore;
                }
                DeliveryTestSupport.await(seen);
                if (mode == DeliveryMode.POSTED) {
                    assertThat(notified).isEqualTo(1);
                    assertThat(suppressed).isEqualTo(2);
                    assertThat(signalled).as("posted: one signal for three vectors").isEqualTo(1);
                } else {
                    assertThat(signalled).as("per vector: one signal per new bit").isEqualTo(3);
                    assertThat(notified + suppressed).isZero();
                }
            }
        }
    }

    @RepeatedTest(3)
    void aPreemptedCoreIsNotSignalledAndTakesWhatWasPostedWhenItResumes() throws Exception {
        try (Machine m = machine(DeliveryMode.POSTED)) {
            final CountDownLatch seen = registerAll(m, 3);
            m.core(1).preemptUntilResumed();
            VirtualizationTest.waitFor("core 1 preempted", () -> m.core(1).isPreempted());
            final long unparks = m.core(1).stats().unparkWakeups();
            for (final Vector v : VECTORS) {
                m.interrupts().send(1, v, null);
            }
            assertThat(m.interrupts().apic(1).suppressedNotifications()).isEqualTo(3);
            assertThat(m.core(1).stats().unparkWakeups()).as("nobody unparks a descheduled core").isEqualTo(unparks);
            m.core(1).resume();
            assertThat(seen.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @RepeatedTest(3)
    void noWakeUpIsLostWhenTheCoreParksBetweenSends() throws Exception {
        try (Machine m = machine(DeliveryMode.POSTED)) {
            final AtomicInteger handled = new AtomicInteger();
            for (final Vector v : VECTORS) {
                m.interrupts().register(v, irq -> handled.incrementAndGet());
            }
            for (int i = 0; i < 2_000; i++) {
                m.interrupts().send(1, VECTORS[i % 3], null);
                final int want = i + 1;
                VirtualizationTest.waitFor("send " + want + " handled", () -> handled.get() >= want);
            }
            assertThat(m.interrupts().apic(1).notifications()).isPositive();
        }
    }
}
