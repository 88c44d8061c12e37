package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class TrialsTest {
    /** A variant that is always 1.5x its floor, on a host whose speed halves mid-run: the ratio holds, the drift shows. */
    @Test
    void perRoundRatiosCancelAHostRegimeAndTheDriftIsFlagged() {
        final List<Trials.Trial> trials = new ArrayList<>();
        for (int round = 1; round <= 10; round++) {
            final double speed = round <= 5 ? 1.0 : 2.0;
            trials.add(new Trials.Trial(round, "floor-spin", null, 100 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "ipi-spin", "floor-spin", 150 * speed, 1000, false));
        }
        final List<Trials.Comparison> c = Trials.compare(trials, 1);
        assertThat(c).hasSize(1);
        final Trials.Comparison ipi = c.get(0);
        assertThat(ipi.variant()).isEqualTo("ipi-spin");
        assertThat(ipi.ratio()).isCloseTo(1.5, within(1e-9));
        assertThat(ipi.low()).isCloseTo(1.5, within(1e-9));
        assertThat(ipi.high()).isCloseTo(1.5, within(1e-9));
        assertThat(ipi.floorDrift()).isCloseTo(2.0, within(1e-9));
        assertThat(ipi.drifting()).isTrue();
        assertThat(Trials.table(c, 10, Duration.ofMillis(400))).contains("| ipi-spin | floor-spin |", "1.50x", "DRIFTING");
    }

    /** Scattered ratios: the interval brackets the median and is wider than a point. */
    @Test
    void theBootstrapIntervalBracketsTheMedian() {
        final List<Trials.Trial> trials = new ArrayList<>();
        final double[] ratio = {1.1, 1.3, 1.2, 1.6, 1.0, 1.25, 1.4, 1.15};
        for (int round = 1; round <= ratio.length; round++) {
            trials.add(new Trials.Trial(round, "floor-park", null, 1000, 100, false));
            trials.add(new Trials.Trial(round, "ipi-park", "floor-park", 1000 * ratio[round - 1], 100, true));
        }
        final Trials.Comparison c = Trials.compare(trials, 7).get(0);
        assertThat(c.ratio()).isCloseTo(1.225, within(1e-9));
        assertThat(c.low()).isLessThan(c.ratio()).isGreaterThanOrEqualTo(1.0);
        assertThat(c.high()).isGreaterThan(c.ratio()).isLessThanOrEqualTo(1.6);
        assertThat(c.drifting()).isFalse();
        assertThat(c.oversubscribed()).isTrue();
    }

    /** The floors part runs its figures beside the host peers {@code peers} gives: exactly {@link FloorsPart#PEERS}. */
    @Test
    void theFloorsPartsHostPeersAreItsPeers() {
        final List<String> run = new ArrayList<>(FloorsPart.PEERS.keySet());
        run.addAll(List.of("host-ipi", "host-shootdown"));
        final java.util.Map<String, String> peers = new java.util.LinkedHashMap<>();
        Trials.peers(run).forEach((figure, hosts) -> peers.put(figure, String.join(",", hosts)));
        assertThat(peers).containsExactlyEntriesOf(FloorsPart.PEERS);
        // A host call the host refuses is not run: nothing is paired with it.
        assertThat(Trials.peers(List.of("ipi-spin", "ipi-park", "shootdown-spin", "host-shootdown")))
            .containsOnlyKeys("shootdown-spin");
    }

    /** A real, tiny run: every counted round holds the variant and its floor, and the warm-up round is not counted. */
    @Test
    void aRealRunMeasuresVariantAndFloorInEveryCountedRound() {
        final List<Trials.Trial> trials = Trials.run(List.of("ipi-spin"), java.util.Map.of(), Duration.ofMillis(5), Duration.ofMillis(10), 2, 3, t -> { });
        assertThat(trials).extracting(Trials.Trial::round).containsOnly(1, 2);
        assertThat(trials).extracting(Trials.Trial::variant).containsExactlyInAnyOrder("ipi-spin", "floor-spin", "idle",
            "ipi-spin", "floor-spin", "idle");
        assertThat(trials).filteredOn(t -> !t.variant().equals(Trials.IDLE)).allSatisfy(t -> assertThat(t.samples()).isPositive());
        // Every trial read the host's counts, or none did (no /proc/interrupts here): never some.
        assertThat(trials.stream().map(t -> t.irqs() == null).distinct()).hasSize(1);
        if (HostInterrupts.read().isPresent()) {
            assertThat(Trials.hostCosts(trials)).extracting(Trials.HostCost::variant)
                .containsExactlyInAnyOrder("ipi-spin", "floor-spin");
        }
    }

    /** The emulation against the host's own IPI, round by round: only ipi4j variants, and the same per-round ratio. */
    @Test
    void ipi4jVariantsAreComparedWithTheHostsIpiInTheSameRounds() {
        final List<Trials.Trial> trials = new ArrayList<>();
        for (int round = 1; round <= 4; round++) {
            final double speed = round % 2 == 0 ? 1.0 : 3.0;
            trials.add(new Trials.Trial(round, "floor-spin", null, 100 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "host-ipi", "floor-spin", 2000 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "call-spin", "floor-spin", 500 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "disruptor-busyspin", "floor-spin", 200 * speed, 1000, false));
        }
        final List<Trials.Comparison> c = Trials.compareWith(trials, "host-ipi", 1, "ipi-", "call-");
        assertThat(c).extracting(Trials.Comparison::variant).containsExactly("call-spin");
        assertThat(c.get(0).floor()).isEqualTo("host-ipi");
        assertThat(c.get(0).ratio()).isCloseTo(0.25, within(1e-9));
        assertThat(Trials.compareWith(trials, "host-shootdown", 1, "shootdown-")).isEmpty();
        assertThat(org.ipi4j.bench.RoundTrip.variants()).doesNotContainAnyElementsOf(org.ipi4j.bench.RoundTrip.hostVariants());
    }

    /**
     * The floor a variant names without starting is the floor it reports once started, for every
     * variant the lab knows (a host call this host refuses cannot be started and is skipped).
     */
    @Test
    void floorOfAgreesWithEveryStartedVariant() {
        final List<String> all = new ArrayList<>(org.ipi4j.bench.RoundTrip.variants());
        all.addAll(org.ipi4j.bench.RoundTrip.hostVariants());
        all.addAll(org.ipi4j.bench.RoundTrip.protocolVariants());
        int started = 0;
        for (final String v : all) {
            if (org.ipi4j.bench.RoundTrip.refusal(v).isPresent()) {
                continue;
            }
            started++;
            try (org.ipi4j.bench.RoundTrip rt = org.ipi4j.bench.RoundTrip.create(v)) {
                assertThat(org.ipi4j.bench.RoundTrip.floorOf(v)).as(v).isEqualTo(rt.floor());
                // Started for real: one request acknowledged (a responder that never answers fails, not hangs).
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), rt::roundTrip, v);
            }
        }
        // Only the host's own calls may be refused: every emulated variant and floor ran.
        assertThat(started).isGreaterThanOrEqualTo(all.size() - 2);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> org.ipi4j.bench.RoundTrip.floorOf("ipi-nothing"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ipi-nothing");
    }

    /**
     * The bare pending-bit protocol is a peer of ipi4j's IPIs to a spinning core (not of its calls,
     * shootdowns, parked or polling IPIs), the bare call protocol of its calls to one, where they
     * run, beside the host's IPI; each comparison is the per-block ratio, and only the figures
     * paired with that peer, by exact name.
     */
    @Test
    void ipisAreComparedWithTheBarePendingBitProtocolWhereItRuns() {
        final List<String> run = List.of("ipi-spin", "ipi-park", "ipi-poll-10us", "call-spin", "call-park", "shootdown-spin",
            "host-ipi", Trials.PROTOCOL_FLOOR, Trials.CALL_PROTOCOL_FLOOR);
        final java.util.Map<String, List<String>> peers = Trials.peers(run);
        assertThat(peers).containsOnly(java.util.Map.entry("ipi-spin", List.of("host-ipi", Trials.PROTOCOL_FLOOR)),
            java.util.Map.entry("ipi-park", List.of("host-ipi")), java.util.Map.entry("ipi-poll-10us", List.of("host-ipi")),
            java.util.Map.entry("call-spin", List.of("host-ipi", Trials.CALL_PROTOCOL_FLOOR)),
            java.util.Map.entry("call-park", List.of("host-ipi")));
        assertThat(Trials.peers(List.of("ipi-spin", "call-spin"))).isEmpty();
        final List<Trials.Trial> trials = new ArrayList<>();
        for (int round = 1; round <= 4; round++) {
            final double speed = round % 2 == 0 ? 1.0 : 4.0;
            trials.add(new Trials.Trial(round, "floor-spin", null, 100 * speed, 1000, false));
            trials.add(new Trials.Trial(round, Trials.PROTOCOL_FLOOR, "floor-spin", 120 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "host-ipi", "floor-spin", 2640 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "ipi-spin", "floor-spin", 132 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "call-spin", "floor-spin", 264 * speed, 1000, false));
            trials.add(new Trials.Trial(round, Trials.CALL_PROTOCOL_FLOOR, "floor-spin", 176 * speed, 1000, false));
            // Not in the run's peers: a prefix match of "ipi-park" would take it in.
            trials.add(new Trials.Trial(round, "ipi-park-pinned", "floor-park", 5000 * speed, 1000, false));
            trials.add(new Trials.Trial(round, "ipi-park", "floor-park", 5280 * speed, 1000, false));
        }
        final List<Trials.Comparison> bare = Trials.compareWithPeer(trials, peers, Trials.PROTOCOL_FLOOR, 1);
        assertThat(bare).extracting(Trials.Comparison::variant).containsExactly("ipi-spin");
        assertThat(bare.get(0).ratio()).isCloseTo(1.1, within(1e-9));
        final List<Trials.Comparison> call = Trials.compareWithPeer(trials, peers, Trials.CALL_PROTOCOL_FLOOR, 1);
        assertThat(call).extracting(Trials.Comparison::variant).containsExactly("call-spin");
        assertThat(call.get(0).ratio()).isCloseTo(1.5, within(1e-9));
        final List<Trials.Comparison> host = Trials.compareWithPeer(trials, peers, "host-ipi", 1);
        assertThat(host).extracting(Trials.Comparison::variant).containsExactlyInAnyOrder("ipi-spin", "call-spin", "ipi-park");
        assertThat(host).filteredOn(c -> c.variant().equals("ipi-park")).singleElement()
            .satisfies(c -> assertThat(c.ratio()).isCloseTo(2.0, within(1e-9)));
    }

    /** Per round trip, less the same round's idle count: 100 RES over 50 round trips with 20 at rest is 1.6 RES/op. */
    @Test
    void hostInterruptsPerRoundTripTakeTheSameRoundsIdleCountOut() {
        final List<Trials.Trial> trials = new ArrayList<>();
        for (int round = 1; round <= 3; round++) {
            trials.add(new Trials.Trial(round, round, Trials.IDLE, null, 0, 0, false, counts(20 * round, 0, 0, 250)));
            trials.add(new Trials.Trial(round, round, "ipi-park", "floor-park", 900, 50, false, counts(20 * round + 80, 5, 0, 250)));
            trials.add(new Trials.Trial(round, round, "ipi-spin", "floor-spin", 300, 1000, false, counts(20 * round, 0, 0, 260)));
        }
        final List<Trials.HostCost> c = Trials.hostCosts(trials);
        assertThat(c).extracting(Trials.HostCost::variant).containsExactly("ipi-park", "ipi-spin");
        assertThat(c.get(0).perOp()).containsExactly(1.6, 0.1, 0.0, 0.0);
        assertThat(c.get(1).perOp()).containsExactly(0.0, 0.0, 0.0, 0.01);
        assertThat(c.get(0).rounds()).isEqualTo(3);
        assertThat(Trials.hostTable(c)).contains("| ipi-park | 1.600 | 0.100 | 0.000 | 0.000 | 3 |", "RES/op");
        assertThat(Trials.hostTable(List.of())).contains("unavailable");
    }

    private static HostInterrupts.Counts counts(final long res, final long cal, final long tlb, final long loc) {
        return new HostInterrupts.Counts(new long[] {res, cal, tlb, loc});
    }
}
