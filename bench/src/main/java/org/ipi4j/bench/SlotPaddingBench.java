package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Does it matter that two cores write slots of one array next to each other? Two threads, each
 * a core writing only its own slot, the way {@code Mmu.switchOn} writes {@code running} (a
 * volatile store into an {@code AtomicReferenceArray}) and a space's {@code syncedGeneration}
 * (a plain store into a {@code long[]}), with the slots side by side (the layout the MMU had) or
 * 128 bytes apart (16 longs; 32 references, compressed), as {@code SendGate} pads its per-core
 * slots. Each pair of groups
 * differs in the layout only: {@code switch*} is the whole switch (publish the space, read the
 * shared generation, compare and store the synced generation), {@code running*} the volatile
 * store alone, {@code synced*} the plain store alone. Throughput of the two threads together.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
@State(Scope.Thread)
public class SlotPaddingBench {
    /** Longs between two cores' slots when padded: 128 bytes. */
    static final int STRIDE = 16;
    /** References between two cores' slots when padded: 128 bytes with compressed references (4 bytes each). */
    static final int REF_STRIDE = 32;

    /** The arrays of one MMU and one space, for two cores, either layout. */
    public abstract static class Slots {
        final AtomicReferenceArray<Object> running;
        final long[] synced;
        /** Shared and only read here, as a space's generation between two shootdowns. */
        final AtomicLong generation = new AtomicLong(1);
        final Object space = new Object();
        private final int stride;
        private final int refStride;

        Slots(final int stride, final int refStride) {
            this.stride = stride;
            this.refStride = refStride;
            // One block of padding before the first slot and after the last, as SendGate does.
            this.running = new AtomicReferenceArray<>((2 + 2) * refStride);
            this.synced = new long[(2 + 2) * stride];
        }

        int slot(final int cpu) {
            return stride == 1 ? cpu : (cpu + 1) * stride;
        }

        int refSlot(final int cpu) {
            return refStride == 1 ? cpu : (cpu + 1) * refStride;
        }

        /** What Mmu.switchOn does on core {@code cpu}. */
        long switchOn(final int cpu) {
            running.set(refSlot(cpu), space);
            final int i = slot(cpu);
            final long gen = generation.get();
            final long behind = gen - synced[i]; // Mmu flushes when this is > 0: here only on the first call
            synced[i] = gen;
            return gen + behind;
        }

        void publish(final int cpu) {
            running.set(refSlot(cpu), space);
        }

        void sync(final int cpu, final long gen) {
            synced[slot(cpu)] = gen;
        }
    }

    /** Slots side by side. */
    @State(Scope.Group)
    public static class Packed extends Slots {
        public Packed() {
            super(1, 1);
        }
    }

    /** Slots 128 bytes apart. */
    @State(Scope.Group)
    public static class Padded extends Slots {
        public Padded() {
            super(STRIDE, REF_STRIDE);
        }
    }

    /** Per thread: the value each store writes. */
    private long n;

    @Benchmark
    @Group("switchPacked")
    @GroupThreads(1)
    public long switchPacked0(final Packed s) {
        return s.switchOn(0);
    }

    @Benchmark
    @Group("switchPacked")
    @GroupThreads(1)
    public long switchPacked1(final Packed s) {
        return s.switchOn(1);
    }

    @Benchmark
    @Group("switchPadded")
    @GroupThreads(1)
    public long switchPadded0(final Padded s) {
        return s.switchOn(0);
    }

    @Benchmark
    @Group("switchPadded")
    @GroupThreads(1)
    public long switchPadded1(final Padded s) {
        return s.switchOn(1);
    }

    @Benchmark
    @Group("runningPacked")
    @GroupThreads(1)
    public void runningPacked0(final Packed s) {
        s.publish(0);
    }

    @Benchmark
    @Group("runningPacked")
    @GroupThreads(1)
    public void runningPacked1(final Packed s) {
        s.publish(1);
    }

    @Benchmark
    @Group("runningPadded")
    @GroupThreads(1)
    public void runningPadded0(final Padded s) {
        s.publish(0);
    }

    @Benchmark
    @Group("runningPadded")
    @GroupThreads(1)
    public void runningPadded1(final Padded s) {
        s.publish(1);
    }

    @Benchmark
    @Group("syncedPacked")
    @GroupThreads(1)
    public void syncedPacked0(final Packed s) {
        s.sync(0, ++n); // a new value each time, as after each shootdown: the store is not elided
    }

    @Benchmark
    @Group("syncedPacked")
    @GroupThreads(1)
    public void syncedPacked1(final Packed s) {
        s.sync(1, ++n);
    }

    @Benchmark
    @Group("syncedPadded")
    @GroupThreads(1)
    public void syncedPadded0(final Padded s) {
        s.sync(0, ++n);
    }

    @Benchmark
    @Group("syncedPadded")
    @GroupThreads(1)
    public void syncedPadded1(final Padded s) {
        s.sync(1, ++n);
    }
}
