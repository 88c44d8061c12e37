package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;

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
 * Round-trip latency (send, handle, acknowledge) of every variant in {@link RoundTrip}: the two
 * floors, ipi4j under each idle policy, and the peers a Java developer would otherwise use.
 * SampleTime mode, so JMH reports percentiles.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class RoundTripBench {
    @Param({"floor-spin", "floor-park", "ipi-spin", "ipi-poll-10us", "ipi-poll-100us", "ipi-park", "ipi-park-pinned", "ipi-adaptive", "ipi-adaptive-yield",
        "call-spin", "call-park", "executor", "agrona-backoff", "disruptor-busyspin", "disruptor-blocking"})
    public String variant;

    private RoundTrip rt;

    @Setup(Level.Trial)
    public void setUp() {
        rt = RoundTrip.create(variant);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rt.close();
    }

    @Benchmark
    public void roundTrip() {
        rt.roundTrip();
    }
}
