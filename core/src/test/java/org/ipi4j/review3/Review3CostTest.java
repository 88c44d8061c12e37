package org.ipi4j.review3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.Machine;
import org.ipi4j.sim.CostModel;
import org.ipi4j.sim.Simulation;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Review 3: the cost model file, auto()'s estimate and the simulation's host CPU sharing. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class Review3CostTest {
    @TempDir
    Path dir;

    private Path written(final CostModel m) throws Exception {
        final Path f = dir.resolve("model.properties");
        m.write(f);
        return f;
    }

    /** Probe: CRLF line ends and blanks around '=' and after values read back the same model. */
    @Test
    void crlfAndExtraWhitespaceReadBackTheSameModel() throws Exception {
        final CostModel m = CostModel.builder().send(123).hostCpus(3).provenance("host", "box").build();
        final Path f = written(m);
        final String text = Files.readString(f, StandardCharsets.ISO_8859_1);
        final StringBuilder crlf = new StringBuilder();
        for (final String line : text.split("\n")) {
            crlf.append("  ").append(line.replaceFirst("=", " = ")).append("   \r\n");
        }
        Files.writeString(f, crlf, StandardCharsets.ISO_8859_1);
        final CostModel back = CostModel.read(f);
        assertThat(back.send()).isEqualTo(123);
        assertThat(back.hostCpus()).isEqualTo(3);
    }

    /**
     * Finding: a key given twice is taken silently, the last one winning (Properties.load), though
     * CostModelFile refuses every other key it would otherwise ignore "without a word".
     */
    @Test
    void aKeyGivenTwiceIsRefusedNamingIt() throws Exception {
        final Path f = written(CostModel.defaults());
        Files.writeString(f, Files.readString(f, StandardCharsets.ISO_8859_1) + "send=999999\n", StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> CostModel.read(f)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'send'");
    }

    /** Probe: an empty file is refused naming a missing key and the file. */
    @Test
    void anEmptyFileIsRefusedNamingAKeyAndTheFile() throws Exception {
        final Path f = dir.resolve("empty.properties");
        Files.writeString(f, "");
        assertThatThrownBy(() -> CostModel.read(f)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(f.toString()).hasMessageContaining("has no key");
    }

    /**
     * Finding: figures near Long.MAX_VALUE are accepted (by the builder and by read), and
     * AutoShape.estimates sums them in plain long arithmetic: the estimate wraps. Serial to 4
     * targets crosses 4 latencies of at least {@code wake} each, yet with wake = MAX/2 it comes
     * out at 150 ns; and auto picks by such wrapped figures.
     */
    @Test
    void aHugeFigureNeverGivesAWrappedEstimate() throws Exception {
        final Path f = written(CostModel.defaults());
        final String text = Files.readString(f, StandardCharsets.ISO_8859_1)
            .replaceFirst("(?m)^wake=.*$", "wake=" + (Long.MAX_VALUE / 2));
        Files.writeString(f, text, StandardCharsets.ISO_8859_1);
        // Fixed: a figure above CostModel.MAX_NANOS is refused, naming the key; at the ceiling nothing wraps.
        assertThatThrownBy(() -> CostModel.read(f)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'wake'").hasMessageContaining(f.toString());
        Files.writeString(f, text.replaceFirst("(?m)^wake=.*$", "wake=" + CostModel.MAX_NANOS), StandardCharsets.ISO_8859_1);
        final CostModel huge = CostModel.read(f);
        for (final Broadcast b : new Broadcast[] {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2), Broadcast.auto()}) {
            assertThat(b.estimateNanos(4, huge)).as("%s's estimate for 4 targets, each reached after wake = MAX/2", b)
                .isGreaterThanOrEqualTo(huge.wake());
        }
    }

    /** Probe: hostCpus above the core count charges nothing (the same time as hostCpus 0). */
    @Test
    void moreHostCpusThanCoresChargesNothing() throws Exception {
        final CostModel base = CostModel.builder().contextSwitch(7000).build();
        assertThat(onEachCoreFromCore0(base.toBuilder().hostCpus(64).build(), 6, Broadcast.auto(), 4))
            .isEqualTo(onEachCoreFromCore0(base, 6, Broadcast.auto(), 4));
    }

    /** Probe: with oversubscription on, the same seed and model give the same time and trace under auto. */
    @Test
    void oversubscribedAutoReplaysFromItsSeed() throws Exception {
        final CostModel shared = CostModel.builder().hostCpus(1).contextSwitch(1500).build();
        final long[] a = new long[2];
        final long[] b = new long[2];
        traced(shared, 11, a);
        traced(shared, 11, b);
        assertThat(b).containsExactly(a);
    }

    private static void traced(final CostModel model, final long seed, final long[] out) throws Exception {
        final Simulation sim = Simulation.builder().seed(seed).jitter(0.3).interleaving(0.3).costModel(model).build();
        try (Machine m = Machine.builder().cores(9).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.auto());
            out[0] = sim.run(() -> sim.await(m.core(5).submit(() -> {
                final long t0 = sim.nanoTime();
                smp.onEachCore(cpu -> { });
                return sim.nanoTime() - t0;
            })));
            out[1] = sim.trace();
        }
    }

    private static long onEachCoreFromCore0(final CostModel model, final int cores, final Broadcast shape, final long seed)
        throws Exception {
        final Simulation sim = Simulation.builder().seed(seed).costModel(model).build();
        try (Machine m = Machine.builder().cores(cores).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), shape);
            final AtomicIntegerArray ran = new AtomicIntegerArray(cores);
            final long nanos = sim.run(() -> sim.await(m.core(0).submit(() -> {
                final long t0 = sim.nanoTime();
                smp.onEachCore(ran::incrementAndGet);
                return sim.nanoTime() - t0;
            })));
            for (int i = 0; i < cores; i++) {
                assertThat(ran.get(i)).isEqualTo(1);
            }
            return nanos;
        }
    }

    /**
     * Probe: one host CPU, a free context switch, and an outside caller that spins while it waits:
     * a spin round is then priced at contextSwitch (0), not spin (at least 1 ns), so virtual time
     * may stop moving while the spinner keeps the baton.
     */
    @Test
    void aSpinningOutsideCallerOnOneHostCpuWithAFreeContextSwitchFinishes() throws Exception {
        final CostModel model = CostModel.builder().hostCpus(1).contextSwitch(0).build();
        final Simulation sim = Simulation.builder().seed(3).costModel(model).stallTimeout(Duration.ofSeconds(5)).build();
        try (Machine m = Machine.builder().cores(4).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), Broadcast.flat());
            final AtomicIntegerArray ran = new AtomicIntegerArray(4);
            final CompletableFuture<Long> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return sim.run(() -> {
                        final long t0 = sim.nanoTime();
                        smp.onEachCore(ran::incrementAndGet);
                        return sim.nanoTime() - t0;
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                assertThat(run.get(30, TimeUnit.SECONDS)).isPositive();
            } catch (TimeoutException e) {
                throw new AssertionError("the simulation neither finished nor failed within 30 s (livelock)", e);
            }
            for (int i = 0; i < 4; i++) {
                assertThat(ran.get(i)).isEqualTo(1);
            }
        }
    }
}
