package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * TLB shootdown: latency of revoking a right as the number of cores running the address space
 * grows (flat and tree broadcast), and an unmap storm of 64 pages done page by page versus
 * batched in one mmu_gather.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class ShootdownBench {
    @Param({"2", "4", "8"})
    public int cores;

    @Param({"flat", "tree2"})
    public String shape;

    private SpaceRig rig;
    private AddressSpace as;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        rig = new SpaceRig("bench-mm", cores, shape.equals("flat") ? Broadcast.flat() : Broadcast.tree(2));
        as = rig.as;
        if (rig.machine.oversubscribed()) {
            // JMH keeps the benchmark's output in its log: the run says it was oversubscribed.
            System.out.println("# oversubscribed: " + cores + " emulated cores on " + Machine.hostCpus() + " host CPUs");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rig.close();
    }

    /** Revoke write on one page (shootdown), then give it back (no shootdown needed). */
    @Benchmark
    public void revokeOnePage() {
        as.protect(0, 1, Pte.READ);
        as.protect(0, 1, Pte.READ | Pte.WRITE);
    }

    /** 64 pages read-only, one shootdown each. */
    @Benchmark
    public void storm64PerPage() {
        rig.revokeAllPerPage();
        rig.restore();
    }

    /** The same 64 pages in one gather: one shootdown (a full flush, above the ceiling). */
    @Benchmark
    public void storm64Batched() {
        rig.revokeAllBatched();
        rig.restore();
    }
}
