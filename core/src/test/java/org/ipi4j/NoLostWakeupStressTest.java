package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Many senders, many parked targets, payload and doorbell vectors mixed: every payload sent must
 * be handled. A lost wake-up shows up as a latch that never reaches zero (the test times out
 * with the counts), not as a slow run.
 */
@EndToEnd
@Timeout(120)
class NoLostWakeupStressTest {
    static final int SENDERS = 4;
    static final int PER_SENDER = 25_000;

    static Stream<IdlePolicy> policies() {
        return Stream.of(IdlePolicy.park(), IdlePolicy.adaptive(20, 2));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("policies")
    void everyPayloadFromManySendersIsHandledOnEightCores(final IdlePolicy policy) throws Exception {
        final int cores = 8;
        try (Machine m = Machine.builder().cores(cores).idlePolicy(policy).pinning(Pinning.NONE)
            .mailboxCapacity(1 << 12).overflowPolicy(OverflowPolicy.BLOCK).build().start()) {
            final Vector a = Vector.of(0x40);
            final Vector b = Vector.of(0x80);
            final AtomicLongArray perCore = new AtomicLongArray(cores);
            final CountDownLatch all = new CountDownLatch(SENDERS * PER_SENDER);
            final boolean[] seen = new boolean[SENDERS * PER_SENDER];
            final org.ipi4j.interrupts.InterruptHandler count = irq -> irq.payloads().forEach(p -> {
                seen[(Integer) p] = true;
                perCore.incrementAndGet(irq.cpu());
                all.countDown();
            });
            m.interrupts().register(a, count);
            m.interrupts().register(b, count);
            final List<Thread> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                final int base = s * PER_SENDER;
                final Thread t = new Thread(() -> {
                    final ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < PER_SENDER; i++) {
                        m.interrupts().send(rnd.nextInt(cores), rnd.nextBoolean() ? a : b, base + i);
                    }
                });
                senders.add(t);
                t.start();
            }
            for (final Thread t : senders) {
                t.join();
            }
            final boolean done = all.await(60, TimeUnit.SECONDS);
            assertThat(done).as("undelivered: %d, per core %s", all.getCount(), perCore).isTrue();
            // Handlers ran on their cores; the latch's countDown/await orders their writes before ours.
            for (int i = 0; i < seen.length; i++) {
                assertThat(seen[i]).as("payload %d", i).isTrue();
            }
        }
    }
}
