package org.ipi4j.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A cost model kept in a file: it reads back equal, gives the same simulated figures, and a bad file is refused by key and file. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CostModelFileTest {
    @TempDir
    Path dir;

    /** Every figure off its default, a named kind, a topology and provenance that needs escaping. */
    static CostModel calibrated() {
        return CostModel.builder().send(410).latency(700, 900, 2100).wake(1200).interrupt(830).flush(120, 1900)
            .spin(35).topology(Topology.of(4, 2)).hostCpus(2).contextSwitch(4500).price("page-walk", 60)
            .provenance("host", "lab box = 2 CPUs: #1").provenance("date", "2026-12-02T06:30Z")
            .provenance("commit", "01c9854").provenance("java", "17.0.9 \u00e9\nsecond line").build();
    }

    @Test
    void aModelReadsBackEqualAndTheSameFileTwiceIsTheSameBytes() throws IOException {
        final CostModel m = calibrated();
        final Path f = dir.resolve("model.properties");
        m.write(f);
        final CostModel back = CostModel.read(f);
        assertThat(back).isEqualTo(m).hasSameHashCodeAs(m);
        assertThat(back.provenance()).containsEntry("java", "17.0.9 \u00e9\nsecond line")
            .containsEntry("host", "lab box = 2 CPUs: #1").hasSize(4);
        assertThat(back.hostCpus()).isEqualTo(2);
        assertThat(back.contextSwitch()).isEqualTo(4500);
        final Path again = dir.resolve("again.properties");
        back.write(again);
        assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(f));
        final CostModel defaults = CostModel.defaults();
        defaults.write(f);
        assertThat(CostModel.read(f)).isEqualTo(defaults);
        final CostModel uniform = CostModel.builder().topology(Topology.uniform()).build();
        uniform.write(f);
        assertThat(CostModel.read(f)).isEqualTo(uniform);
        assertThat(CostModel.read(f).topology().distance(0, 1000)).isEqualTo(Topology.SAME_COMPLEX);
    }

    @Test
    void equalityCoversEveryFigureAndToBuilderCopiesThemAll() {
        final CostModel m = calibrated();
        assertThat(m.toBuilder().build()).isEqualTo(m).hasSameHashCodeAs(m);
        final List<CostModel> changed = List.of(m.toBuilder().send(1).build(), m.toBuilder().latency(700, 900, 1).build(),
            m.toBuilder().wake(1).build(), m.toBuilder().interrupt(1).build(), m.toBuilder().flush(120, 1).build(),
            m.toBuilder().spin(1).build(), m.toBuilder().topology(Topology.of(4, 3)).build(),
            m.toBuilder().hostCpus(0).build(), m.toBuilder().contextSwitch(1).build(),
            m.toBuilder().price("page-walk", 1).build(), m.toBuilder().price("other", 1).build(),
            m.toBuilder().provenance("host", "elsewhere").build());
        for (final CostModel c : changed) {
            assertThat(c).as("%s", c).isNotEqualTo(m);
        }
        assertThat(CostModel.defaults()).isEqualTo(CostModel.defaults()).hasSameHashCodeAs(CostModel.defaults());
    }

    @Test
    void theModelFromTheFileSimulatesTheSameVirtualTimes() throws Exception {
        final CostModel m = calibrated().toBuilder().hostCpus(0).build();
        final Path f = dir.resolve("model.properties");
        m.write(f);
        final CostModel back = CostModel.read(f);
        for (final Broadcast shape : List.of(Broadcast.flat(), Broadcast.tree(2), Broadcast.topology())) {
            assertThat(onEachCore(back, shape)).as("%s", shape).isEqualTo(onEachCore(m, shape));
        }
    }

    private static long onEachCore(final CostModel model, final Broadcast shape) throws Exception {
        final Simulation sim = Simulation.builder().seed(3).costs(model).build();
        try (Machine m = Machine.builder().cores(12).simulation(sim).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), shape);
            return sim.run(() -> sim.await(m.core(0).submit(() -> {
                final long t0 = sim.nanoTime();
                smp.onEachCore(cpu -> { });
                return sim.nanoTime() - t0;
            })));
        }
    }

    @Test
    void everyMissingKeyIsRefusedNamingItAndTheFile() throws IOException {
        final Path f = dir.resolve("model.properties");
        calibrated().write(f);
        final List<String> lines = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
        for (final String key : List.of("send", "latency.sameComplex", "latency.sameSocket", "latency.crossSocket",
            "wake", "interrupt", "flush.page", "flush.all", "spin", "hostCpus", "contextSwitch", "topology")) {
            final Path without = dir.resolve("without-" + key);
            Files.write(without, lines.stream().filter(l -> !l.startsWith(key + "=")).toList(), StandardCharsets.ISO_8859_1);
            assertThatThrownBy(() -> CostModel.read(without)).as(key).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + key + "'").hasMessageContaining(without.toString());
        }
    }

    @Test
    void aMalformedValueOrAnUnknownKeyIsRefusedNamingItAndTheFile() throws IOException {
        final Path f = dir.resolve("model.properties");
        calibrated().write(f);
        final String text = Files.readString(f, StandardCharsets.ISO_8859_1);
        final String[][] cases = {
            {"send=410", "send=fast", "send"},
            {"latency.sameSocket=900", "latency.sameSocket=-1", "latency.sameSocket"},
            {"spin=35", "spin=0", "spin"},
            {"hostCpus=2", "hostCpus=-2", "hostCpus"},
            {"contextSwitch=4500", "contextSwitch=4.5", "contextSwitch"},
            {"topology=4x2", "topology=4x", "topology"},
            {"topology=4x2", "topology=0x2", "topology"},
            {"price.page-walk=60", "price.page-walk=sixty", "price.page-walk"},
            {"price.page-walk=60", "price.Page_Walk=60", "price.Page_Walk"},
            {"price.page-walk=60", "price.send=60", "price.send"},
            {"send=410", "send=410\nsned=410", "sned"},
        };
        for (final String[] c : cases) {
            assertThat(text).contains(c[0]);
            final Path bad = dir.resolve("bad-" + c[2]);
            Files.writeString(bad, text.replace(c[0], c[1]), StandardCharsets.ISO_8859_1);
            assertThatThrownBy(() -> CostModel.read(bad)).as(c[1]).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + c[2] + "'").hasMessageContaining(bad.toString());
        }
    }

    @Test
    void badBuilderArgumentsAreRefusedByName() {
        assertThatThrownBy(() -> CostModel.builder().hostCpus(-1)).hasMessageContaining("hostCpus");
        assertThatThrownBy(() -> CostModel.builder().contextSwitch(-1)).hasMessageContaining("contextSwitch");
        assertThatThrownBy(() -> CostModel.builder().provenance("two words", "x")).hasMessageContaining("two words");
        assertThatThrownBy(() -> CostModel.builder().provenance("", "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CostModel.defaults().hop(4)).hasMessageContaining("distance");
        assertThatThrownBy(() -> CostModel.read(Path.of("no-such-dir", "none.properties"))).isInstanceOf(IOException.class);
    }
}
