package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CoreAction;
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
 * Cross-core calls with wait from an outside thread: single, many (all cores) and onEachCore, with
 * flat, serial and tree(2) broadcast, as the number of emulated cores grows. Cores park when idle
 * (8 cores on a 2-CPU host is oversubscribed; the lab says so).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class SmpCallBench {
    @Param({"2", "4", "8"})
    public int cores;

    @Param({"flat", "serial", "tree2"})
    public String shape;

    private Machine machine;
    private SmpCall smp;
    private Broadcast broadcast;
    private CpuSet all;
    long sink;

    @Setup(Level.Trial)
    public void setUp() {
        machine = Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.BEST_EFFORT).build().start();
        broadcast = switch (shape) {
            case "flat" -> Broadcast.flat();
            case "serial" -> Broadcast.serial();
            default -> Broadcast.tree(2);
        };
        smp = SmpCall.install(machine, java.time.Duration.ofSeconds(10), broadcast);
        all = CpuSet.firstN(cores);
        if (machine.oversubscribed()) {
            // JMH keeps the benchmark's output in its log: the run says it was oversubscribed.
            System.out.println("# oversubscribed: " + cores + " emulated cores on " + Machine.hostCpus() + " host CPUs");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        machine.close();
    }

    private final CoreAction count = cpu -> sink++;
    private final CoreAction nothing = cpu -> { };

    /** {@code run(cpu, action)}: waits, allocation-free. */
    @Benchmark
    public void single() {
        smp.run(cores - 1, count);
    }

    /** {@code run(cpus, condition, action, shape)} to every core: waits, allocation-free. */
    @Benchmark
    public void many() {
        smp.run(all, null, nothing, broadcast);
    }

    /** The convenience form with a wait flag, which returns a (completed) future. */
    @Benchmark
    public void onEachCore() {
        smp.onEachCore(nothing);
    }
}
