package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Ipi4jException;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.smp.SmpCallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** trySend, custom idle strategies, thread factories, the exception hierarchy, named call forms. */
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

    @Test
    void coresRunOnTheFactorysThreadsAndAreFullCoresThere() throws Exception {
        final List<Thread> made = new CopyOnWriteArrayList<>();
        final ThreadFactory factory = r -> {
            final Thread t = new Thread(r, "custom-" + made.size());
            t.setDaemon(true);
            made.add(t);
            return t;
        };
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .threadFactory(factory).build().start()) {
            assertThat(made).hasSize(2);
            assertThat(Core.current()).as("the test thread is no core").isNull();
            final SmpCall smp = SmpCall.install(m);
            // Core.current() on a factory thread is its core: a waited call from core 0 to core 1
            // needs it (the caller waits as a core, taking interrupts).
            final String where = m.core(0).submit(() -> Thread.currentThread().getName() + " as core "
                + Core.current().id() + ", called " + smp.call(1, cpu -> Thread.currentThread().getName()))
                .get(10, TimeUnit.SECONDS);
            assertThat(where).isEqualTo("custom-0 as core 0, called custom-1");
            final CountDownLatch seen = new CountDownLatch(1);
            m.interrupts().register(V, irq -> seen.countDown());
            m.interrupts().send(1, V, "x");
            DeliveryTestSupport.await(seen);
        }
        assertThat(made).allSatisfy(t -> assertThat(t.isAlive()).as(t.getName()).isFalse());
    }

    @Test
    void aFactoryThatReturnsNoNewThreadLeavesTheMachineUnstarted() {
        final Machine m = Machine.builder().cores(2).pinning(Pinning.NONE).threadFactory(r -> null).build();
        assertThatThrownBy(m::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("threadFactory")
            .hasMessageContaining("core 0");
        assertThat(m.core(0).state()).isEqualTo(Core.State.NEW);
        final Thread started = new Thread(() -> { });
        started.start();
        final Machine m2 = Machine.builder().cores(1).pinning(Pinning.NONE).threadFactory(r -> started).build();
        assertThatThrownBy(m2::start).hasMessageContaining("unstarted");
        assertThatThrownBy(() -> Machine.builder().threadFactory(null)).isInstanceOf(NullPointerException.class)
            .hasMessage("factory");
    }

    @Test
    void everyExceptionOfTheLibraryHasOneBase() throws Exception {
        for (final Class<?> c : List.of(MachineClosedException.class, MailboxFullException.class, CpuException.class,
                PageFaultException.class, GeneralProtectionException.class, CallTimeoutException.class,
                SmpCallException.class, UncleanShutdownException.class)) {
            assertThat(Ipi4jException.class).as(c.getSimpleName()).isAssignableFrom(c);
        }
        final Machine m = Machine.builder().cores(1).pinning(Pinning.NONE).build().start();
        m.interrupts().register(V, irq -> { });
        m.shutdown(Duration.ofSeconds(5));
        assertThatThrownBy(() -> m.interrupts().send(0, V, null)).isInstanceOf(MachineClosedException.class)
            .isInstanceOf(Ipi4jException.class);
    }

    @Test
    void theCallFormsSayWhetherTheyWaitAndWhom() throws Exception {
        try (Machine m = Machine.builder().cores(3).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            final SmpCall smp = SmpCall.install(m);
            final AtomicIntegerArray ran = new AtomicIntegerArray(3);
            final CountDownLatch release = new CountDownLatch(1);
            // Async returns before the function ran: core 1 waits on a latch only this thread opens.
            final CallCompletion<Integer> f = smp.callAsync(1, cpu -> {
                DeliveryTestSupport.await(release);
                return cpu * 10;
            });
            assertThat(f).isNotDone();
            release.countDown();
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(10);
            m.core(2).submit(() -> smp.onOtherCores(ran::incrementAndGet)).get(10, TimeUnit.SECONDS);
            assertThat(ran.toString()).isEqualTo("[1, 1, 0]");
            m.core(2).submit(() -> smp.onOtherCoresAsync(ran::incrementAndGet).join()).get(10, TimeUnit.SECONDS);
            assertThat(ran.toString()).isEqualTo("[2, 2, 0]");
            smp.onEachCore(ran::incrementAndGet);
            assertThat(ran.toString()).isEqualTo("[3, 3, 1]");
            smp.onEachCoreAsync(ran::incrementAndGet).get(10, TimeUnit.SECONDS);
            assertThat(ran.toString()).isEqualTo("[4, 4, 2]");
            smp.onOtherCores(ran::incrementAndGet); // from an outside thread: every core
            assertThat(ran.toString()).isEqualTo("[5, 5, 3]");
        }
    }
}
