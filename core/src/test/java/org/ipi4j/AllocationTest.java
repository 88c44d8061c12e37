package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.shard.ShardFunction;
import org.ipi4j.shard.Sharded;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CoreAction;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hot paths allocate nothing in steady state: bytes allocated by the calling thread and by
 * every core thread (HotSpot's per-thread allocation counter), divided by the operations, after a
 * warm-up that lets the JIT compile them; the least of three rounds. One object per operation
 * would be at least 16 bytes; the bound of 2 bytes per operation leaves room for nothing
 * allocated per operation.
 */
@Timeout(120)
class AllocationTest {
    private static final Vector V = Vector.of(0x40);
    private static final Object PAYLOAD = new Object();
    private static final double BOUND = 2.0;
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    enum Idle {
        SPIN(IdlePolicy.spin()), PARK(IdlePolicy.park());

        final IdlePolicy policy;

        Idle(final IdlePolicy policy) {
            this.policy = policy;
        }
    }

    /** Bytes allocated so far by the caller and by the machine's core threads. */
    private static long allocated(final Machine m) {
        long sum = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (final Core c : m.cores()) {
            sum += THREADS.getThreadAllocatedBytes(c.threadId());
        }
        return sum;
    }

    /**
     * The least bytes per operation over three measured rounds, after a warm-up round. Growth that
     * happens once (a latency histogram resizing for a value the noisy host produced, a LongAdder
     * inflating its cells under contention) can land in one round; an allocation made by every
     * operation lands in all three.
     */
    private static double bytesPerOp(final Machine m, final int ops, final Runnable op) {
        for (int i = 0; i < ops; i++) {
            op.run(); // warm-up: compiled before we count
        }
        double least = Double.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            final long before = allocated(m);
            for (int i = 0; i < ops; i++) {
                op.run();
            }
            least = Math.min(least, (allocated(m) - before) / (double) ops);
        }
        return least;
    }

    @ParameterizedTest
    @EnumSource(Idle.class)
    void sendAndHandleAllocateNothing(final Idle idle) {
        assertThat(THREADS.isThreadAllocatedMemorySupported()).isTrue();
        try (Machine m = Machine.builder().cores(1).idlePolicy(idle.policy).pinning(Pinning.NONE).build().start()) {
            final AtomicLong handled = new AtomicLong();
            m.interrupts().register(V, irq -> handled.addAndGet(irq.payloads().size() + 1));
            final int ops = idle == Idle.SPIN ? 50_000 : 10_000;
            final double payload = bytesPerOp(m, ops, () -> {
                final long before = handled.get();
                m.interrupts().send(0, V, PAYLOAD);
                awaitAbove(handled, before);
            });
            final double doorbell = bytesPerOp(m, ops, () -> {
                final long before = handled.get();
                m.interrupts().send(0, V, null);
                awaitAbove(handled, before);
            });
            assertThat(payload).as("bytes per payload send and handle").isLessThan(BOUND);
            assertThat(doorbell).as("bytes per doorbell send and handle").isLessThan(BOUND);
        }
    }

    @ParameterizedTest
    @EnumSource(Idle.class)
    void waitedCrossCallsAllocateNothing(final Idle idle) throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(idle.policy).pinning(Pinning.NONE).build().start()) {
            final SmpCall smp = SmpCall.install(m);
            final long[] sink = new long[2];
            final CoreAction count = cpu -> sink[cpu]++;
            final int ops = idle == Idle.SPIN ? 20_000 : 5_000;
            assertThat(bytesPerOp(m, ops, () -> smp.run(1, count))).as("run(cpu) from outside").isLessThan(BOUND);
            final CpuSet both = CpuSet.firstN(2);
            assertThat(bytesPerOp(m, ops, () -> smp.run(both, null, count, Broadcast.flat())))
                .as("run(cpus) from outside").isLessThan(BOUND);
            // From a core: core 0 calls core 1 (its own waited call, taking interrupts meanwhile).
            final double fromCore = m.core(0).submit(() -> {
                for (int i = 0; i < ops; i++) {
                    smp.run(1, count);
                }
                final long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int i = 0; i < ops; i++) {
                    smp.run(1, count);
                }
                return (THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before) / (double) ops;
            }).get(60, TimeUnit.SECONDS);
            assertThat(fromCore).as("run(cpu) from core 0, caller side").isLessThan(BOUND);
            assertThat(sink[1]).isEqualTo(10L * ops); // 4 rounds of run(1), 4 of run(both), 2 from core 0
        }
    }

    @ParameterizedTest
    @EnumSource(Idle.class)
    void waitedShardedInvokeOnAllocatesNothing(final Idle idle) throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(idle.policy).pinning(Pinning.NONE).build().start()) {
            final Sharded<long[]> shards = Sharded.start(SmpCall.install(m), cpu -> new long[1]);
            final ShardFunction<long[], Object> count = cell -> {
                cell[0]++;
                return null; // a boxed result would be the caller's allocation, not the call's
            };
            final int ops = idle == Idle.SPIN ? 20_000 : 5_000;
            assertThat(bytesPerOp(m, ops, () -> shards.invokeOn(1, count))).as("invokeOn(cpu) from outside")
                .isLessThan(BOUND);
            final double fromCore = m.core(0).submit(() -> {
                for (int i = 0; i < ops; i++) {
                    shards.invokeOn(1, count);
                }
                final long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int i = 0; i < ops; i++) {
                    shards.invokeOn(1, count);
                }
                return (THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before) / (double) ops;
            }).get(60, TimeUnit.SECONDS);
            assertThat(fromCore).as("invokeOn(cpu) from core 0, caller side").isLessThan(BOUND);
            final long calls = shards.invokeOn(1, cell -> cell[0]);
            assertThat(calls).isEqualTo(6L * ops); // 4 rounds from outside, 2 from core 0
        }
    }

    @Test
    void aOnePageShootdownAllocatesNothing() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .memoryWords(64 * 16).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), Broadcast.flat());
            final Mmu mmu = Mmu.builder(smp).pageWords(64).build();
            final AddressSpace as = mmu.newAddressSpace(8);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            m.core(1).submit(() -> {
                mmu.switchTo(as);
                mmu.read(as, 0);
            }).get(10, TimeUnit.SECONDS);
            final double perRevoke = bytesPerOp(m, 5_000, () -> {
                as.protect(0, 1, Pte.READ);              // shootdown to core 1
                as.protect(0, 1, Pte.READ | Pte.WRITE);  // adding a right: none
            });
            assertThat(as.stats().shootdowns()).isEqualTo(20_000);
            assertThat(perRevoke).as("bytes per one-page shootdown").isLessThan(BOUND);
        }
    }

    private static void awaitAbove(final AtomicLong value, final long before) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.get() == before) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not handled within 10 s");
            }
            Thread.onSpinWait();
        }
    }
}
