package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.ipi4j.DeliveryTestSupport.await;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(60)
class DeliveryTest {
    static final Vector V = Vector.of(0x40);

    static Machine machine(final int cores, final IdlePolicy idle) {
        return Machine.builder().cores(cores).idlePolicy(idle).pinning(Pinning.NONE).build();
    }

    /** Records every entry per core and counts down once per entry. */
    static final class Recorder {
        final ConcurrentHashMap<Integer, List<Interrupt>> byCore = new ConcurrentHashMap<>();
        final CountDownLatch latch;

        Recorder(final int expected) {
            latch = new CountDownLatch(expected);
        }

        void handle(final Interrupt irq) {
            byCore.computeIfAbsent(irq.cpu(), k -> Collections.synchronizedList(new ArrayList<>())).add(irq.copy()); // the view is valid only during the handler
            latch.countDown();
        }

        void await() throws InterruptedException {
            assertThat(latch.await(10, TimeUnit.SECONDS)).as("all interrupts delivered in time").isTrue();
        }

        List<Interrupt> on(final int cpu) {
            return byCore.getOrDefault(cpu, List.of());
        }
    }

    @Test
    void unicastReachesOnlyItsTargetWithItsPayload() throws Exception {
        try (Machine m = machine(4, IdlePolicy.park()).start()) {
            final Recorder rec = new Recorder(1);
            m.interrupts().register(V, rec::handle);
            m.interrupts().send(2, V, "hello");
            rec.await();
            assertThat(rec.on(2)).hasSize(1);
            final Interrupt irq = rec.on(2).get(0);
            assertThat(irq.payloads()).containsExactly("hello");
            assertThat(irq.vector()).isEqualTo(V);
            assertThat(irq.frame().previousInterruptsEnabled()).isTrue();
            assertThat(rec.byCore.keySet()).containsExactly(2);
            assertThat(m.interrupts().externalSent()).isEqualTo(1);
            m.core(2).submit(() -> { }).get(5, TimeUnit.SECONDS); // the handler has returned: counters are final
            assertThat(m.core(2).stats().received()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void multicastReachesExactlyTheSet() throws Exception {
        try (Machine m = machine(4, IdlePolicy.park()).start()) {
            final Recorder rec = new Recorder(3);
            m.interrupts().register(V, rec::handle);
            m.interrupts().send(CpuSet.of(0, 2, 3), V, 7);
            rec.await();
            assertThat(rec.byCore.keySet()).containsExactlyInAnyOrder(0, 2, 3);
            for (final int cpu : new int[] {0, 2, 3}) {
                assertThat(rec.on(cpu)).singleElement().satisfies(i -> assertThat(i.payloads()).containsExactly(7));
            }
        }
    }

    @Test
    void shorthandsResolveAgainstTheSender() throws Exception {
        try (Machine m = machine(4, IdlePolicy.park()).start()) {
            final Recorder self = new Recorder(1);
            final Recorder allButSelf = new Recorder(3);
            final Recorder all = new Recorder(4);
            m.interrupts().register(Vector.of(0x41), self::handle);
            m.interrupts().register(Vector.of(0x42), allButSelf::handle);
            m.interrupts().register(Vector.of(0x43), all::handle);

            m.core(1).submit(() -> m.interrupts().send(Shorthand.SELF, Vector.of(0x41), null)).get(5, TimeUnit.SECONDS);
            m.core(1).submit(() -> m.interrupts().send(Shorthand.ALL_BUT_SELF, Vector.of(0x42), null)).get(5, TimeUnit.SECONDS);
            m.interrupts().send(Shorthand.ALL, Vector.of(0x43), null);
            self.await();
            allButSelf.await();
            all.await();
            assertThat(self.byCore.keySet()).containsExactly(1);
            assertThat(allButSelf.byCore.keySet()).containsExactlyInAnyOrder(0, 2, 3);
            assertThat(all.byCore.keySet()).containsExactlyInAnyOrder(0, 1, 2, 3);
            assertThat(m.core(1).stats().sent()).isEqualTo(4); // 1 self + 3 others, counted on the sender
            assertThatThrownBy(() -> m.interrupts().send(Shorthand.SELF, V, null))
                .isInstanceOf(IllegalArgumentException.class); // V has no handler: checked first
            m.interrupts().register(V, irq -> { });
            assertThatThrownBy(() -> m.interrupts().send(Shorthand.SELF, V, null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a core");
        }
    }

    @RepeatedTest(5)
    void sameVectorCoalescesWhilePendingAndNoPayloadIsLost() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park()).start()) {
            final Recorder rec = new Recorder(1);
            m.interrupts().register(V, rec::handle);
            final CountDownLatch off = new CountDownLatch(1);
            final CountDownLatch sent = new CountDownLatch(1);
            final var task = m.core(1).submit(() -> {
                final Core c = Core.current();
                final boolean flags = c.disableInterrupts();
                off.countDown();
                await(sent);
                c.checkpoint(); // not delivered: interrupts are off
                assertThat(rec.byCore).isEmpty();
                c.restoreInterrupts(flags); // delivered here, before restore returns
                assertThat(rec.on(1)).hasSize(1);
            });
            await(off);
            for (int i = 0; i < 5; i++) {
                m.interrupts().send(1, V, i);
            }
            sent.countDown();
            task.get(10, TimeUnit.SECONDS);
            assertThat(rec.on(1)).singleElement()
                .satisfies(i -> assertThat(i.payloads()).containsExactly(0, 1, 2, 3, 4));
            assertThat(m.core(1).stats().coalesced()).isEqualTo(4);
        }
    }

    @Test
    void highestPriorityClassIsTakenFirst() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park()).start()) {
            final List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            final int[] vectors = {0x40, 0x90, 0x35, 0xE0, 0x91};
            for (final int v : vectors) {
                m.interrupts().register(Vector.of(v), irq -> order.add(irq.vector().number()));
            }
            final CountDownLatch off = new CountDownLatch(1);
            final CountDownLatch sent = new CountDownLatch(1);
            final var task = m.core(0).submit(() -> {
                final Core c = Core.current();
                c.disableInterrupts();
                off.countDown();
                await(sent);
                c.enableInterrupts();
            });
            await(off);
            for (final int v : vectors) {
                m.interrupts().send(0, Vector.of(v), null);
            }
            sent.countDown();
            task.get(10, TimeUnit.SECONDS);
            assertThat(order).containsExactly(0xE0, 0x91, 0x90, 0x40, 0x35);
            assertThat(Vector.of(0x91).priorityClass()).isEqualTo(9);
        }
    }

    static Stream<IdlePolicy> policies() {
        return Stream.of(IdlePolicy.spin(), IdlePolicy.poll(java.time.Duration.ofMillis(1)), IdlePolicy.park(),
            IdlePolicy.adaptive(50, 5));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("policies")
    void idleCoreWakesUnderEveryPolicy(final IdlePolicy policy) throws Exception {
        try (Machine m = machine(2, policy).start()) {
            final AtomicInteger delivered = new AtomicInteger();
            final CountDownLatch[] latch = new CountDownLatch[1];
            m.interrupts().register(V, irq -> {
                delivered.addAndGet(irq.payloads().size());
                latch[0].countDown();
            });
            for (int i = 0; i < 100; i++) {
                latch[0] = new CountDownLatch(1);
                DeliveryTestSupport.waitUntilIdle(m.core(1), policy);
                m.interrupts().send(1, V, i);
                assertThat(latch[0].await(10, TimeUnit.SECONDS)).as("wake-up %d under %s", i, policy).isTrue();
            }
            assertThat(delivered.get()).isEqualTo(100);
            final var stats = m.core(1).stats();
            switch (policy.kind()) {
                case SPIN, POLL -> assertThat(stats.unparkWakeups()).as("polling cores need no unpark").isZero();
                case PARK -> assertThat(stats.unparkWakeups()).as("parked core needs an unpark").isEqualTo(100);
                default -> assertThat(stats.unparkWakeups() + stats.elidedWakeups()).isGreaterThanOrEqualTo(100);
            }
        }
    }

    @Test
    void preemptionOffDoesNotBlockInterrupts() throws Exception {
        try (Machine m = machine(2, IdlePolicy.park()).start()) {
            final Recorder rec = new Recorder(1);
            m.interrupts().register(V, rec::handle);
            m.core(0).submit(() -> {
                final Core c = Core.current();
                c.disablePreemption();
                assertThat(c.preemptionDisabled()).isTrue();
                m.interrupts().send(Shorthand.SELF, V, "x");
                c.checkpoint();
                assertThat(rec.on(0)).hasSize(1); // taken although preemption is off
                c.enablePreemption();
            }).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void eightCoresOnATwoCpuHostAllAnswerABroadcast() throws Exception {
        try (Machine m = machine(8, IdlePolicy.park()).start()) {
            assertThat(m.oversubscribed()).isEqualTo(Machine.hostCpus() < 8);
            for (int round = 0; round < 20; round++) {
                final Recorder rec = new Recorder(8);
                final Vector v = Vector.of(0x40 + round);
                m.interrupts().register(v, rec::handle);
                m.interrupts().send(Shorthand.ALL, v, round);
                rec.await();
                assertThat(rec.byCore.keySet()).hasSize(8);
            }
            for (final Core c : m.cores()) {
                c.submit(() -> { }).get(5, TimeUnit.SECONDS);
                assertThat(c.stats().received()).isGreaterThanOrEqualTo(20);
            }
        }
    }
}
