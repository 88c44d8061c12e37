package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.apic.Faults;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fault-injection hook: each fault strikes, is counted, and nothing is lost. */
@Timeout(60)
class FaultInjectionTest {
    static final Vector V = Vector.of(0x40);

    private static Machine machine(final Faults faults) {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).faults(faults).build().start();
    }

    @Test
    void aCallToAFrozenCoreCompletesAfterItThaws() {
        final Faults faults = new Faults(2);
        try (Machine m = machine(faults)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), Broadcast.flat());
            final AtomicInteger ran = new AtomicInteger();
            faults.freeze(1, Duration.ofMillis(200));
            smp.run(1, cpu -> ran.incrementAndGet());
            assertThat(ran.get()).isEqualTo(1);
            assertThat(faults.frozenBoundaries()).isPositive();
        }
    }

    @Test
    void aCallToACoreFrozenPastTheWatchdogFailsNamingIt() {
        final Faults faults = new Faults(2);
        final Machine m = machine(faults);
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(100), Broadcast.flat());
            faults.freeze(1, Duration.ofSeconds(30));
            assertThatThrownBy(() -> smp.run(1, cpu -> { })).isInstanceOfSatisfying(CallTimeoutException.class,
                e -> assertThat(e.cpus()).isEqualTo(CpuSet.of(1)));
            assertThat(smp.watchdogResends()).isEqualTo(1);
        } finally {
            faults.thaw(1);
            m.close();
        }
    }

    /** A lost unpark leaves the core asleep on a pending bit; the watchdog's re-send wakes it. */
    @RepeatedTest(5)
    void aLostWakeUpIsRecoveredByTheResendAndCounted() {
        final Faults faults = new Faults(2);
        try (Machine m = machine(faults)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(200), Broadcast.flat());
            final AtomicInteger ran = new AtomicInteger();
            DeliveryTestSupport.waitUntilParked(m.core(1));
            faults.dropWakeups(1, 1);
            smp.run(1, cpu -> ran.incrementAndGet());
            assertThat(ran.get()).isEqualTo(1);
            assertThat(faults.droppedWakeups()).isEqualTo(1);
            assertThat(smp.watchdogResends()).isEqualTo(1);
        }
    }

    @Test
    void anInjectedHandlerFailureIsAnOopsWithItsPayloadsAndTheCoreGoesOn() throws Exception {
        final Faults faults = new Faults(2);
        try (Machine m = machine(faults)) {
            final AtomicInteger handled = new AtomicInteger();
            final CountDownLatch good = new CountDownLatch(1);
            m.interrupts().register(V, irq -> {
                handled.addAndGet(irq.payloads().size());
                good.countDown();
            });
            faults.failHandlers(1, 1);
            m.interrupts().send(1, V, "lost?");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (m.oopsRecorded() == 0) {
                assertThat(System.nanoTime() - deadline).isNegative();
                Thread.onSpinWait();
            }
            m.interrupts().send(1, V, "fine");
            DeliveryTestSupport.await(good);
            assertThat(handled.get()).isEqualTo(1);
            assertThat(m.oopses()).singleElement().satisfies(o -> {
                assertThat(o.payloads()).containsExactly("lost?");
                assertThat(o.error()).hasMessageContaining("fault injected");
            });
        }
    }

    @Test
    void delayedDeliveriesStillArrive() throws Exception {
        final Faults faults = new Faults(2);
        try (Machine m = machine(faults)) {
            final CountDownLatch seen = new CountDownLatch(3);
            m.interrupts().register(V, irq -> irq.payloads().forEach(p -> seen.countDown()));
            faults.delayDeliveries(1, Duration.ofMillis(20));
            for (int i = 0; i < 3; i++) {
                m.interrupts().send(1, V, i);
            }
            DeliveryTestSupport.await(seen);
            assertThat(faults.delayedDeliveries()).isPositive();
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> new Faults(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cores");
        final Faults faults = new Faults(2);
        assertThatThrownBy(() -> faults.freeze(2, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("core 2 does not exist");
        assertThatThrownBy(() -> faults.freeze(0, null)).isInstanceOf(NullPointerException.class).hasMessage("duration");
        assertThatThrownBy(() -> faults.dropWakeups(0, -1)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("count");
        assertThatThrownBy(() -> Machine.builder().faults(null)).isInstanceOf(NullPointerException.class)
            .hasMessage("injector");
    }
}
