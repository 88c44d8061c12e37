package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.MmuGather;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
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
    static final int PAGES = 64;

    @Param({"2", "4", "8"})
    public int cores;

    @Param({"flat", "tree2"})
    public String shape;

    private Machine machine;
    private AddressSpace as;
    private Mmu mmu;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        machine = Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.BEST_EFFORT)
            .memoryWords(PAGES * 64 * 2).build().start();
        final SmpCall smp = SmpCall.install(machine);
        mmu = Mmu.builder(smp).broadcast(shape.equals("flat") ? Broadcast.flat() : Broadcast.tree(2)).build();
        as = mmu.newAddressSpace(PAGES);
        if (machine.oversubscribed()) {
            // JMH keeps the benchmark's output in its log: the run says it was oversubscribed.
            System.out.println("# oversubscribed: " + cores + " emulated cores on " + Machine.hostCpus() + " host CPUs");
        }
        for (int vpn = 0; vpn < PAGES; vpn++) {
            as.map(vpn, vpn, Pte.READ | Pte.WRITE);
        }
        for (int c = 0; c < cores; c++) { // every core runs the space and caches page 0
            machine.core(c).submit(() -> {
                mmu.switchTo(as);
                mmu.read(as, 0);
            }).get();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
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
        for (int vpn = 0; vpn < PAGES; vpn++) {
            as.protect(vpn, 1, Pte.READ);
        }
        restore();
    }

    /** The same 64 pages in one gather: one shootdown (a full flush, above the ceiling). */
    @Benchmark
    public void storm64Batched() {
        try (MmuGather g = as.gather()) {
            g.protect(0, PAGES, Pte.READ);
        }
        restore();
    }

    private void restore() {
        as.protect(0, PAGES, Pte.READ | Pte.WRITE); // adding rights: no shootdown
    }
}
