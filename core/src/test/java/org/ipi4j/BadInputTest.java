package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.Mmu;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class BadInputTest {
    static final Vector V = Vector.of(0x40);

    @Test
    void badCoreIdsAndVectorsAreRefusedBeforeAnythingIsSent() throws Exception {
        try (Machine m = Machine.builder().cores(4).pinning(Pinning.NONE).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            m.interrupts().register(V, irq -> handled.incrementAndGet());
            assertThatThrownBy(() -> m.interrupts().send(4, V, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("core 4 does not exist");
            assertThatThrownBy(() -> m.interrupts().send(-1, V, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.interrupts().send(CpuSet.of(0, 9), V, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("core 9");
            assertThatThrownBy(() -> m.interrupts().send(0, Vector.GENERAL_PROTECTION, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved for exceptions");
            assertThatThrownBy(() -> m.interrupts().send(0, Vector.of(0x41), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no handler");
            assertThatThrownBy(() -> m.interrupts().register(Vector.PAGE_FAULT, irq -> { }))
                .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.interrupts().register(V, irq -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already");
            assertThatThrownBy(() -> m.interrupts().register(Vector.RESCHEDULE, irq -> { }))
                .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> m.interrupts().onException(V, f -> null))
                .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Vector.of(256)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> Vector.of(-1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> CpuSet.of(-2)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.core(7)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> m.core(0).checkpoint())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("own thread");
            assertThatThrownBy(() -> m.core(0).disableInterrupts()).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(m::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("already");
            assertThatThrownBy(() -> m.core(0).submit(() -> Core.current().enablePreemption()).join())
                .hasCauseInstanceOf(IllegalStateException.class);
            assertThat(handled.get()).isZero();
        }
    }

    @Test
    void builderRejectsNonsense() {
        assertThatThrownBy(() -> Machine.builder().cores(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Machine.builder().mailboxCapacity(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IdlePolicy.poll(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IdlePolicy.adaptive(-1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sendingToAClosedMachineFailsClearly() {
        final Machine m = Machine.builder().cores(2).pinning(Pinning.NONE).build().start();
        m.interrupts().register(V, irq -> { });
        m.close();
        assertThatThrownBy(() -> m.interrupts().send(0, V, 1))
            .isInstanceOf(MachineClosedException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> m.core(0).submit(() -> { })).isInstanceOf(MachineClosedException.class);
    }

    @Test
    void aFullMailboxFailsTheSendAndLosesNothingThatWasAccepted() throws Exception {
        try (Machine m = Machine.builder().cores(2).mailboxCapacity(8).overflowPolicy(OverflowPolicy.FAIL)
            .idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            final CountDownLatch nine = new CountDownLatch(9);
            m.interrupts().register(V, irq -> irq.payloads().forEach(p -> {
                handled.incrementAndGet();
                nine.countDown();
            }));
            final CountDownLatch busy = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final var blocker = m.core(1).submit(() -> {
                busy.countDown();
                DeliveryTestSupport.await(release);
                Core.current().checkpoint();
            });
            DeliveryTestSupport.await(busy);
            int accepted = 0;
            MailboxFullException full = null;
            for (int i = 0; i < 20 && full == null; i++) {
                try {
                    m.interrupts().send(1, V, i);
                    accepted++;
                } catch (MailboxFullException e) {
                    full = e;
                }
            }
            assertThat(full).isNotNull();
            assertThat(full.failed()).isEqualTo(CpuSet.of(1));
            assertThat(accepted).isEqualTo(8);
            // A multicast with one full target still reaches the other one.
            assertThatThrownBy(() -> m.interrupts().send(CpuSet.of(0, 1), V, "multi"))
                .isInstanceOfSatisfying(MailboxFullException.class, e -> assertThat(e.failed()).isEqualTo(CpuSet.of(1)));
            release.countDown();
            blocker.get(10, TimeUnit.SECONDS);
            DeliveryTestSupport.await(nine);
            assertThat(handled.get()).isEqualTo(8 + 1); // 8 on core 1, "multi" on core 0
        }
    }

    @Test
    void blockPolicyWaitsForRoomInsteadOfFailing() throws Exception {
        try (Machine m = Machine.builder().cores(2).mailboxCapacity(4).overflowPolicy(OverflowPolicy.BLOCK)
            .blockTimeout(Duration.ofSeconds(20)).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            m.interrupts().register(V, irq -> handled.addAndGet(irq.payloads().size()));
            for (int i = 0; i < 10_000; i++) {
                m.interrupts().send(1, V, i);
            }
            m.core(1).submit(() -> { }).get(10, TimeUnit.SECONDS);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (handled.get() < 10_000 && System.nanoTime() < deadline) {
                Thread.yield();
            }
            assertThat(handled.get()).isEqualTo(10_000);
        }
        // BLOCK with a target that never drains gives up after the timeout.
        final Machine never = Machine.builder().cores(2).mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK)
            .blockTimeout(Duration.ofMillis(50)).pinning(Pinning.NONE).build();
        never.interrupts().register(V, irq -> { });
        never.interrupts().send(1, V, 1);
        never.interrupts().send(1, V, 2);
        assertThatThrownBy(() -> never.interrupts().send(1, V, 3)).isInstanceOf(MailboxFullException.class)
            .hasMessageContaining("0x40").hasMessageContaining("still full after waiting 50 ms");
        assertThat(never.shutdown(Duration.ofSeconds(1)).undelivered()).singleElement()
            .satisfies(u -> assertThat(u.payloads()).containsExactly(1, 2));
    }

    /** Under BLOCK a core's send to itself does not wait for room (nobody else drains it), and its message says so. */
    @Test
    void aFullMailboxToItselfSaysItDidNotWait() throws Exception {
        try (Machine m = Machine.builder().cores(2).mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK)
                .blockTimeout(Duration.ofSeconds(30)).pinning(Pinning.NONE).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            m.interrupts().register(V, irq -> handled.addAndGet(irq.payloads().size()));
            final MailboxFullException full = m.core(0).submit(() -> {
                final Core self = Core.current();
                final boolean flags = self.disableInterrupts();
                try {
                    m.interrupts().send(0, V, 1);
                    m.interrupts().send(0, V, 2);
                    m.interrupts().send(0, V, 3);
                    return null;
                } catch (MailboxFullException e) {
                    return e;
                } finally {
                    self.restoreInterrupts(flags);
                }
            }).get(10, TimeUnit.SECONDS);
            assertThat(full).isNotNull();
            assertThat(full.failed()).isEqualTo(CpuSet.of(0));
            assertThat(full).hasMessageContaining("core 0's send to itself does not wait").hasMessageNotContaining("waiting");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (handled.get() < 2 && System.nanoTime() < deadline) {
                Thread.yield();
            }
            assertThat(handled.get()).isEqualTo(2);
        }
    }

    /** A refused value is named with the value itself, so the message says what was wrong. */
    @Test
    void aBadNumberIsNamedWithItsValue() {
        assertThatThrownBy(() -> IdlePolicy.adaptive(-3, 0)).hasMessageContaining("spins -3");
        assertThatThrownBy(() -> Machine.builder().blockTimeout(Duration.ofMillis(-5)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blockTimeout").hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> Machine.builder().memoryWords(-1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memoryWords").hasMessageContaining("-1");
        try (Machine m = Machine.builder().cores(2).pinning(Pinning.NONE).build().start()) {
            final SmpCall smp = SmpCall.install(m);
            final Mmu mmu = Mmu.builder(smp).build();
            assertThatThrownBy(() -> mmu.newAddressSpace(0)).hasMessageContaining("pages").hasMessageContaining("not 0");
            assertThatThrownBy(() -> Mmu.builder(smp).fullFlushCeiling(-2)).hasMessageContaining("not -2");
            assertThatThrownBy(() -> Mmu.builder(smp).batchPages(0)).hasMessageContaining("not 0");
        }
        assertThat(Vector.of(0x40)).hasToString("0x40");
        assertThat(Vector.CALL_FUNCTION).hasToString("CALL_FUNCTION(0xfc)");
    }
}
