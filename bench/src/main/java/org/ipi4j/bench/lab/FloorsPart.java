package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.ipi4j.bench.RoundTrip;

/**
 * The floors part of the main job: ipi4j's emulated IPI ({@code ipi-spin}, {@code ipi-park}) and
 * one-page shootdown ({@code shootdown-spin}) beside the host's real ones ({@code host-ipi}, a
 * {@code membarrier} round trip; {@code host-shootdown}, an {@code mprotect}) and beside the raw
 * floors, all in the same shuffled rounds of {@link Trials} (the code {@code lab trials} runs,
 * not a copy): each ratio is the median of per-round ratios with its 95% bootstrap interval, and
 * each figure carries the host's interrupts per round trip, less the same round's idle trial.
 *
 * <p>A host call the host refuses (not Linux, seccomp, an old kernel) is named with its errno in
 * the result and the rest still runs. Everything the report shows is kept in the result's
 * {@link Result#info()}, so {@code results.json} holds it and {@link #table} renders it from
 * there alone. Not thread-safe: one measuring thread, then only read.
 */
final class FloorsPart {
    /** The emulated figures, each with the host's real mechanism it is set beside. */
    static final Map<String, String> PEERS = orderedPeers();
    /** Every figure of the part, in report order: the emulated ones, then the host's. */
    static final List<String> FIGURES = List.of("ipi-spin", "ipi-park", "shootdown-spin", "host-ipi", "host-shootdown");
    /** The result's name and part. */
    static final String NAME = "floors";

    private FloorsPart() {
    }

    private static Map<String, String> orderedPeers() {
        final Map<String, String> m = new LinkedHashMap<>();
        m.put("ipi-spin", "host-ipi");
        m.put("ipi-park", "host-ipi");
        m.put("shootdown-spin", "host-shootdown");
        return m;
    }

    /** {@return counted rounds: 8 of 200 ms trials (about 20 s on 2 CPUs); smoke 2 of 20 ms} */
    static int rounds(final Settings s) {
        return s.smoke() ? 2 : 8;
    }

    static Duration trial(final Settings s) {
        return Duration.ofMillis(s.smoke() ? 20 : 200);
    }

    static Duration warmUp(final Settings s) {
        return Duration.ofMillis(s.smoke() ? 10 : 100);
    }

    /** Runs the emulated figures, the host's real ones the host allows, and their floors as interleaved trials. */
    static Result measure(final Settings s) {
        final Result r = new Result(NAME, NAME, "host", null);
        final List<String> run = new ArrayList<>(PEERS.keySet());
        final Map<String, String> refused = new LinkedHashMap<>();
        for (final String host : List.of("host-ipi", "host-shootdown")) {
            RoundTrip.refusal(host).ifPresentOrElse(why -> refused.put(host, why), () -> run.add(host));
        }
        // Trials.peers pairs ipi-* with host-ipi and shootdown-* with host-shootdown: PEERS, where the host allows them.
        final Map<String, List<String>> peers = Trials.peers(run);
        final List<Trials.Trial> trials = Trials.run(run, peers, warmUp(s), trial(s), rounds(s), s.seed(), t -> { });
        final List<Map<String, Object>> comparisons = new ArrayList<>();
        Trials.compare(trials, s.seed()).forEach(c -> comparisons.add(toMap(c, "floor")));
        for (final String peer : List.of("host-ipi", "host-shootdown")) {
            Trials.compareWithPeer(trials, peers, peer, s.seed()).forEach(c -> comparisons.add(toMap(c, "peer")));
        }
        // Trials lists figures in the order they first ran (shuffled): the report lists them in FIGURES' order.
        comparisons.sort(Comparator.comparingInt(c -> FIGURES.indexOf(String.valueOf(c.get("variant")))));
        final List<Map<String, Object>> interrupts = new ArrayList<>();
        for (final Trials.HostCost c : Trials.hostCosts(trials)) {
            final Map<String, Object> m = new LinkedHashMap<>();
            m.put("variant", c.variant());
            for (int k = 0; k < HostInterrupts.KINDS.length; k++) {
                m.put(HostInterrupts.KINDS[k], c.perOp()[k]);
            }
            m.put("rounds", c.rounds());
            interrupts.add(m);
        }
        final List<Map<String, Object>> raw = new ArrayList<>();
        for (final Trials.Trial t : trials) {
            if (!t.variant().equals(Trials.IDLE)) {
                raw.add(Map.of("round", t.round(), "block", t.block(), "variant", t.variant(), "p50_ns", t.p50Nanos(),
                    "samples", t.samples()));
            }
        }
        r.info().put("rounds", rounds(s));
        r.info().put("trial_ms", trial(s).toMillis());
        r.info().put("warmup_ms", warmUp(s).toMillis());
        r.info().put("refused", refused);
        r.info().put("comparisons", comparisons);
        r.info().put("host_interrupts_per_op", interrupts);
        r.info().put("trials", raw);
        return r;
    }

    private static Map<String, Object> toMap(final Trials.Comparison c, final String kind) {
        final Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", c.variant());
        m.put("against", c.floor());
        m.put("kind", kind); // floor: a lower bound the variant should not beat; peer: the host's real mechanism
        m.put("p50_ns", c.p50Nanos());
        m.put("against_p50_ns", c.floorP50Nanos());
        m.put("ratio", c.ratio());
        m.put("ci_low", c.low());
        m.put("ci_high", c.high());
        m.put("rounds", c.rounds());
        m.put("against_drift", c.floorDrift());
        m.put("broken_floor", kind.equals("floor") && c.brokenFloor());
        m.put("drifting", c.drifting());
        m.put("oversubscribed", c.oversubscribed());
        return m;
    }

    /** What each column of {@link #table} means (the report prints it under the table). */
    static final String COLUMNS = "*figure*: the round trip measured, marked (oversubscribed) where its threads "
        + "outnumber the host's CPUs. *p50*: the figure's median round trip over its counted trials (each trial's p50 of "
        + "back-to-back round trips for the trial time). Every round runs a block per emulated figure (the figure, its "
        + "floor and its real peer back to back, in random order), in a fresh random order. *floor*: the raw floor it "
        + "is compared with (volatile spin ping-pong, or park/unpark), DRIFTING where the floor's own trial medians "
        + "spread more than " + Trials.DRIFT_WARNING + "x. *vs floor*: the median over blocks of p50(figure) / "
        + "p50(floor) in the same block, with its 95% bootstrap interval over the blocks; BROKEN FLOOR where the whole "
        + "interval lies below 1 (a floor the figure beats bounds nothing). *real peer*: the host kernel's own mechanism: host-ipi is "
        + "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), returning once the CPU where a thread of ours spins took the "
        + "IPI and ran its barrier; host-shootdown is mprotect revoking and restoring the write right of a page a thread "
        + "of ours reads on another CPU (a one-page TLB shootdown); \"refused\" where the host refused the call (its own "
        + "row names the call and the errno), \"(the real one)\" on the host's own rows. *vs real peer*: as vs floor, "
        + "against the real peer; below 1 the emulation is faster than the host's mechanism, a result, not a broken "
        + "floor. *RES/op, CAL/op, TLB/op, LOC/op*: the host's reschedule IPIs, function-call IPIs, TLB shootdowns and "
        + "local timer interrupts per round trip, from /proc/interrupts summed over the CPUs: the median over trials of "
        + "(count - the same round's idle trial's count) / round trips; n/a where /proc/interrupts cannot be read. "
        + "*rounds*: counted blocks (after one warm-up round) in which figure and floor both ran.";

    /** The report's columns, in order ({@link #COLUMNS} defines them). */
    static final String[] HEADER = {"figure", "p50 (median of rounds)", "floor", "vs floor [95% CI]", "real peer",
        "vs real peer [95% CI]", "RES/op", "CAL/op", "TLB/op", "LOC/op", "rounds"};

    /**
     * The floors section: a row per figure measured (the emulated ones, then the host's), each
     * beside its floor and, for an emulated figure, the host's real mechanism; a refused host call
     * is a row naming why.
     *
     * @param r the part's result, live or read back from {@code results.json}
     */
    static Table table(final Result r) {
        final Table t = new Table(HEADER);
        if (r == null || r.error() != null) {
            return t;
        }
        final Map<String, Map<String, Object>> floors = new LinkedHashMap<>();
        final Map<String, Map<String, Object>> peers = new LinkedHashMap<>();
        for (final Map<String, Object> c : maps(r.info().get("comparisons"))) {
            ("peer".equals(c.get("kind")) ? peers : floors).put(String.valueOf(c.get("variant")), c);
        }
        final Map<String, Map<String, Object>> irqs = new LinkedHashMap<>();
        maps(r.info().get("host_interrupts_per_op")).forEach(m -> irqs.put(String.valueOf(m.get("variant")), m));
        final Map<?, ?> refused = r.info().get("refused") instanceof Map<?, ?> m ? m : Map.of();
        for (final String v : FIGURES) {
            if (refused.containsKey(v)) {
                t.row(v, "not measured: the host refuses it: " + refused.get(v), "", "", "", "", "", "", "", "", "");
                continue;
            }
            final Map<String, Object> f = floors.get(v);
            if (f == null) {
                continue; // not run
            }
            final String peer = PEERS.get(v);
            final Map<String, Object> p = peers.get(v);
            final String peerCell = peer == null ? "(the real one)" : refused.containsKey(peer) ? peer + " refused" : peer;
            final Map<String, Object> i = irqs.get(v);
            final String[] row = new String[HEADER.length];
            row[0] = v + (Boolean.TRUE.equals(f.get("oversubscribed")) ? " (oversubscribed)" : "");
            row[1] = Report.us(num(f, "p50_ns"));
            row[2] = f.get("against") + (Boolean.TRUE.equals(f.get("drifting"))
                ? String.format(Locale.ROOT, " DRIFTING (%.2fx)", num(f, "against_drift")) : "");
            row[3] = ratio(f);
            row[4] = peerCell;
            row[5] = p == null ? "" : ratio(p);
            for (int k = 0; k < HostInterrupts.KINDS.length; k++) {
                row[6 + k] = i == null ? "n/a" : String.format(Locale.ROOT, "%.3f",
                    Math.abs(num(i, HostInterrupts.KINDS[k])) < 0.0005 ? 0.0 : num(i, HostInterrupts.KINDS[k]));
            }
            row[10] = String.format(Locale.ROOT, "%.0f", num(f, "rounds"));
            t.row(row);
        }
        return t;
    }

    /** {@return the console's line: each emulated figure against its real peer, and what the host refused} */
    static String headline(final Result r) {
        final StringBuilder b = new StringBuilder();
        for (final Map<String, Object> c : maps(r.info().get("comparisons"))) {
            if ("peer".equals(c.get("kind"))) {
                b.append(b.length() == 0 ? "" : ", ").append(c.get("variant")).append(' ').append(ratio(c)).append(' ')
                    .append(c.get("against"));
            }
        }
        if (r.info().get("refused") instanceof Map<?, ?> refused) {
            refused.forEach((k, why) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(" refused: ").append(why));
        }
        return b.toString();
    }

    /** A comparison's ratio and interval as the report prints it, BROKEN FLOOR where a floor was beaten beyond its interval. */
    static String ratio(final Map<String, Object> c) {
        return (Boolean.TRUE.equals(c.get("broken_floor")) ? "BROKEN FLOOR " : "")
            + Trials.ratio(num(c, "ratio"), num(c, "ci_low"), num(c, "ci_high"));
    }

    static double num(final Map<String, Object> m, final String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> maps(final Object o) {
        final List<Map<String, Object>> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            for (final Object e : l) {
                if (e instanceof Map<?, ?> m) {
                    out.add((Map<String, Object>) m);
                }
            }
        }
        return out;
    }
}
