package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static final List<String> VARIANTS = List.of("floor-spin", "floor-park", "ipi-spin", "call-spin", "ipi-park",
        "host-ipi", "disruptor-busyspin");
    private static final Map<String, List<String>> REFS = Map.of(
        "ipi-spin", List.of("floor-spin", "host-ipi"),
        "call-spin", List.of("floor-spin"),
        "ipi-park", List.of("floor-park", "host-ipi"),
        "host-ipi", List.of("floor-spin"),
        "disruptor-busyspin", List.of("floor-spin"));

    /** Every block is one head and its references, contiguous; each head once a round; references never alone. */
    @Test
    void everyVariantRunsBackToBackWithItsReferencesOncePerRound() {
        final List<Schedule.Slot> slots = Schedule.blocks(VARIANTS, REFS, 5, List.of("idle"), new Random(3));
        final Map<Integer, List<Schedule.Slot>> byBlock = new LinkedHashMap<>();
        int last = -1;
        for (final Schedule.Slot s : slots) {
            assertThat(s.block()).as("blocks are contiguous and numbered in run order").isIn(last, last + 1);
            last = s.block();
            byBlock.computeIfAbsent(s.block(), k -> new ArrayList<>()).add(s);
        }
        final Set<String> heads = new HashSet<>();
        for (final List<Schedule.Slot> b : byBlock.values()) {
            final String head = b.get(0).head();
            heads.add(head);
            assertThat(b).extracting(Schedule.Slot::head).containsOnly(head);
            assertThat(b).extracting(Schedule.Slot::round).containsOnly(b.get(0).round());
            final List<String> expected = new ArrayList<>();
            expected.add(head);
            for (int i = 0; i < expected.size(); i++) { // a reference's references join too (host-ipi's floor)
                for (final String ref : REFS.getOrDefault(expected.get(i), List.of())) {
                    if (!expected.contains(ref)) {
                        expected.add(ref);
                    }
                }
            }
            assertThat(b).extracting(Schedule.Slot::variant).containsExactlyInAnyOrderElementsOf(expected);
        }
        // floor-spin, floor-park and host-ipi are references: they never head a block.
        assertThat(heads).containsExactlyInAnyOrder("ipi-spin", "call-spin", "ipi-park", "disruptor-busyspin", "idle");
        for (int round = 0; round < 5; round++) {
            final int r = round;
            assertThat(slots.stream().filter(s -> s.round() == r && s.isHead()).map(Schedule.Slot::variant))
                .containsExactlyInAnyOrder("ipi-spin", "call-spin", "ipi-park", "disruptor-busyspin", "idle");
        }
        assertThat(slots.stream().filter(s -> s.variant().equals("floor-spin"))).hasSize(5 * 4); // ipi-park's too, for host-ipi
    }

    /** The order of blocks and within them changes from round to round: nothing always runs first. */
    @Test
    void blocksAndTheirMembersAreShuffledEveryRound() {
        final List<Schedule.Slot> slots = Schedule.blocks(VARIANTS, REFS, 20, List.of(), new Random(11));
        final Set<String> firstOfRound = new HashSet<>();
        final Set<String> firstOfIpiBlock = new HashSet<>();
        int round = -1;
        int block = -1;
        for (final Schedule.Slot s : slots) {
            if (s.round() != round) {
                firstOfRound.add(s.head());
                round = s.round();
            }
            if (s.block() != block) {
                block = s.block();
                if (s.head().equals("ipi-spin")) {
                    firstOfIpiBlock.add(s.variant());
                }
            }
        }
        assertThat(firstOfRound).hasSizeGreaterThan(1);
        assertThat(firstOfIpiBlock).containsExactlyInAnyOrder("ipi-spin", "floor-spin", "host-ipi");
    }

    /** A head given three blocks a round runs three, each with its own references beside it. */
    @Test
    void aHeadWithMoreBlocksPerRoundRunsThatManyEachBesideItsFloor() {
        final List<Schedule.Slot> slots = Schedule.blocks(List.of("ipi-spin", "ipi-park", "floor-spin", "floor-park"),
            REFS, Map.of("ipi-spin", 3), 4, List.of(), new Random(5));
        for (int round = 0; round < 4; round++) {
            final int r = round;
            assertThat(slots.stream().filter(s -> s.round() == r && s.isHead()).map(Schedule.Slot::variant))
                .containsExactlyInAnyOrder("ipi-spin", "ipi-spin", "ipi-spin", "ipi-park");
        }
        final Map<Integer, List<String>> byBlock = new LinkedHashMap<>();
        slots.forEach(s -> byBlock.computeIfAbsent(s.block(), k -> new ArrayList<>()).add(s.variant()));
        assertThat(byBlock).hasSize(16);
        final Set<String> spin = Set.of("ipi-spin", "floor-spin");
        final Set<String> park = Set.of("ipi-park", "floor-park");
        assertThat(byBlock.values()).allSatisfy(b -> {
            assertThat(b).hasSize(2);
            assertThat(Set.copyOf(b)).isIn(spin, park);
        });
    }

    /** Alone, a floor is nobody's reference and heads its own block; references not run are left out. */
    @Test
    void aLoneFloorHeadsItsOwnBlockAndAbsentReferencesAreSkipped() {
        assertThat(Schedule.blocks(List.of("floor-park"), REFS, 2, List.of(), new Random(1)))
            .extracting(Schedule.Slot::variant).containsExactly("floor-park", "floor-park");
        assertThat(Schedule.blocks(List.of("ipi-spin", "floor-spin"), REFS, 1, List.of(), new Random(1)))
            .extracting(Schedule.Slot::variant).containsExactlyInAnyOrder("ipi-spin", "floor-spin");
    }
}
