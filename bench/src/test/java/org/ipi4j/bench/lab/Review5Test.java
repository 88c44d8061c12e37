package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 5: blocks of interleaved trials composed with host peers and floors. */
class Review5Test {
    /**
     * {@code lab trials --variants call-park,host-ipi}: host-ipi is call-park's peer, so it runs only
     * inside call-park's blocks, and its own floor (floor-spin) is referenced by host-ipi alone, so it
     * never heads a block either: it must still run beside host-ipi, or host-ipi has no floor ratio.
     */
    @Test
    void aPeerWithAFloorOfItsOwnRunsBesideThatFloor() {
        final List<String> variants = List.of("call-park", "floor-park", "host-ipi", "floor-spin");
        final Map<String, List<String>> refs = Map.of(
            "call-park", List.of("floor-park", "host-ipi"),
            "host-ipi", List.of("floor-spin"));
        final List<Schedule.Slot> slots = Schedule.blocks(variants, refs, 3, List.of("idle"), new Random(5));
        final Map<Integer, Set<String>> byBlock = new LinkedHashMap<>();
        slots.forEach(s -> byBlock.computeIfAbsent(s.block(), k -> new LinkedHashSet<>()).add(s.variant()));
        assertThat(slots).extracting(Schedule.Slot::variant).as("every variant given runs").contains("floor-spin");
        for (final Set<String> members : byBlock.values()) {
            if (members.contains("host-ipi")) {
                assertThat(members).as("host-ipi's block holds its floor").contains("floor-spin");
            }
        }
    }

    /**
     * A floor listed before a variant that it bounds ({@code --variants floor-spin,ipi-spin}) is a
     * floor, not a variant compared with itself (Trials.run's putIfAbsent kept floor-spin's own
     * floor, floor-spin).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFloorListedFirstIsNotComparedWithItself() {
        final List<Trials.Trial> trials = Trials.run(List.of("floor-spin", "ipi-spin"), Map.of(), Duration.ofMillis(2),
            Duration.ofMillis(5), 2, 1, t -> { });
        assertThat(trials).filteredOn(t -> t.variant().equals("floor-spin")).extracting(Trials.Trial::floor)
            .containsOnlyNulls();
        assertThat(Trials.compare(trials, 1)).extracting(Trials.Comparison::variant).containsExactly("ipi-spin");
    }

    /**
     * {@code lab trials --csv}: a floor runs once per block, several times a round, so a row must
     * say its block, or a reader cannot tell which floor trial ran beside which variant's.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theTrialsCsvSaysEachTrialsBlock(@org.junit.jupiter.api.io.TempDir final java.nio.file.Path dir)
        throws java.io.IOException {
        final java.nio.file.Path csv = dir.resolve("trials.csv");
        final LabCommandTest.Run run = LabCommandTest.lab("trials", "--variants", "ipi-spin,call-spin", "--rounds", "2",
            "--trial", "5ms", "--warmup", "2ms", "--csv", csv.toString());
        assertThat(run.code()).as(run.out()).isZero();
        final List<String> lines = java.nio.file.Files.readAllLines(csv);
        assertThat(lines.get(0)).startsWith("round,block,variant,");
        // floor-spin ran beside ipi-spin and beside call-spin in each counted round: 4 rows, 4 blocks
        assertThat(lines).filteredOn(l -> l.split(",")[2].equals("floor-spin")).hasSize(4)
            .extracting(l -> l.split(",")[1]).doesNotHaveDuplicates();
    }
}
