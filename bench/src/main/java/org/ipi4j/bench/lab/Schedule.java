package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The order in which interleaved trials run: rounds of blocks, each block a variant beside the
 * references it is compared with (its floor, a host peer), run back to back in a fresh random
 * order. A ratio pairs a variant's trial with its reference's trial of the same block.
 *
 * <p>Why blocks and not one shuffle of everything per round: this host's speed regimes last one
 * to a few seconds (a raw spin ping-pong measured in 20 ms windows steps between about 0.22, 0.27,
 * 0.30 and 0.34 us and stays a second or more at each), while a round of the main job's fifteen
 * variants lasts about 15 s. Shuffled over the round, a variant and its floor fell on different
 * regimes as often as not and the main job's three runs disagreed by up to 5x; side by side
 * (under a second apart for spinning variants), they share one. The blocks themselves are
 * shuffled per round, so no variant always runs first, or always after the same neighbour.
 *
 * <p>A variant that is another's reference runs only inside blocks, as often as the variants
 * that reference it (a floor gets many more trials than a variant), and brings its own
 * references into those blocks (a host peer its floor); a variant that is nobody's reference heads
 * a block of its own, with its references that ran. Not thread-safe; pure.
 */
final class Schedule {
    /**
     * One trial's place: its round, its block (numbered from 0 across the whole run) and its variant.
     *
     * @param head the block's own variant: {@code variant} itself, or the one it runs beside as a reference
     */
    record Slot(int round, int block, String variant, String head) {
        boolean isHead() {
            return variant.equals(head);
        }
    }

    private Schedule() {
    }

    /**
     * Rounds of blocks.
     *
     * @param variants what runs, in a stable order (it only seeds the shuffles' starting order)
     * @param references for each variant, what it is compared with (variants not in {@code variants} are skipped)
     * @param rounds how many rounds, each holding one block per head
     * @param extras trials every round holds once, at a random place between blocks (the idle baseline), or none
     * @return every slot, in the order the trials run
     */
    static List<Slot> blocks(final List<String> variants, final Map<String, List<String>> references, final int rounds,
                             final List<String> extras, final Random random) {
        return blocks(variants, references, Map.of(), rounds, extras, random);
    }

    /**
     * Rounds of blocks, some heads running more than one block per round.
     *
     * @param perRound blocks per round of a head (1 for a head not in it): more for figures whose
     *                 trials are short and whose ratios scatter, so their median rests on more blocks
     * @see #blocks(List, Map, int, List, Random)
     */
    static List<Slot> blocks(final List<String> variants, final Map<String, List<String>> references,
                             final Map<String, Integer> perRound, final int rounds, final List<String> extras,
                             final Random random) {
        final Set<String> referenced = new LinkedHashSet<>();
        for (final String v : variants) {
            for (final String ref : references.getOrDefault(v, List.of())) {
                if (!ref.equals(v) && variants.contains(ref)) {
                    referenced.add(ref);
                }
            }
        }
        final List<String> heads = new ArrayList<>();
        for (final String v : variants) {
            if (!referenced.contains(v)) {
                heads.add(v);
            }
        }
        // A block's members, the same every round: the head, its references and, since a reference
        // runs only inside blocks and nowhere else could they pair, its references' references
        // (host-ipi, a peer, beside its own floor).
        final Map<String, List<String>> membersOf = new LinkedHashMap<>();
        for (final String head : heads) {
            final List<String> members = new ArrayList<>();
            members.add(head);
            for (int i = 0; i < members.size(); i++) {
                for (final String ref : references.getOrDefault(members.get(i), List.of())) {
                    if (variants.contains(ref) && !members.contains(ref)) {
                        members.add(ref);
                    }
                }
            }
            membersOf.put(head, members);
        }
        final List<Slot> slots = new ArrayList<>();
        int block = 0;
        for (int round = 0; round < rounds; round++) {
            final List<String> order = new ArrayList<>();
            for (final String head : heads) {
                for (int k = perRound.getOrDefault(head, 1); k > 0; k--) {
                    order.add(head);
                }
            }
            order.addAll(extras); // an extra is a block of one, placed among the others
            Collections.shuffle(order, random);
            for (final String head : order) {
                final List<String> members = new ArrayList<>(membersOf.getOrDefault(head, List.of(head)));
                Collections.shuffle(members, random);
                for (final String m : members) {
                    slots.add(new Slot(round, block, m, head));
                }
                block++;
            }
        }
        return slots;
    }
}
