package org.ipi4j.bench.lab;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.ipi4j.Machine;
import org.ipi4j.bench.RoundTrip;

/**
 * Round trips, as interleaved trials: back-to-back (the next request at once) and paced (one request per
 * {@link Settings#pace()} on an absolute schedule, latency from each request's intended send time),
 * with the responder's CPU time per message.
 * Percentiles come from HdrHistogram; every repeat's histograms go to the {@link Sink}.
 */
final class RoundTripPart {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    /** The paced caller spins the last this-many nanoseconds before a send instead of parking (a park overshoots). */
    private static final long PARK_SLACK_NANOS = 200_000;

    /** Blocks per round of a spinning figure against the spin floor (the others run one). */
    static final int SPIN_BLOCKS_PER_ROUND = 3;

    private RoundTripPart() {
    }

    /**
     * The round-trip part as interleaved trials: {@link Settings#rounds()} rounds, each running one
     * block per variant ({@value #SPIN_BLOCKS_PER_ROUND} for a spinning one) in a fresh random
     * order, a block being the variant and its floor back to back in random order
     * ({@link Schedule}), so a speed regime of the host falls on a variant and its floor alike; a
     * figure's repeats are its trials, one per block it ran in, and a variant's ratio to its floor
     * is the median of per-block ratios ({@link Report}).
     *
     * @return one step per trial, in the order they run; each step's result is its variant's
     *         (the same object for every trial of a variant)
     */
    static List<LabRun.Step> steps(final Settings s, final Sink sink) {
        final Map<String, Figure> figures = new LinkedHashMap<>();
        final Map<String, List<String>> floors = new LinkedHashMap<>();
        final Map<String, Integer> perRound = new LinkedHashMap<>();
        for (final String v : s.variants()) {
            figures.put(v, new Figure(v));
            final String floor = floorOf(v);
            floors.put(v, floor == null ? List.of() : List.of(floor));
            if ("floor-spin".equals(floor) && !v.startsWith("ipi-poll")) {
                // A spinning figure's trial takes a fifth of a second, and its per-block ratio to
                // the spin floor scatters by about 25% (the two do not move in proportion when the
                // host's speed does): three blocks a round make its median rest on three times as
                // many. Not the periodic pollers: a poll period bounds them, at 10^5 times the floor.
                perRound.put(v, SPIN_BLOCKS_PER_ROUND);
            }
        }
        final List<LabRun.Step> steps = new ArrayList<>();
        for (final Schedule.Slot slot : Schedule.blocks(s.variants(), floors, perRound, s.rounds(), List.of(),
            new Random(s.seed()))) {
            final Figure f = figures.get(slot.variant());
            steps.add(new LabRun.Step("round trip " + slot.variant() + " (round " + (slot.round() + 1) + "/" + s.rounds()
                + (slot.isHead() ? "" : ", beside " + slot.head()) + ")",
                () -> f.trial(slot.round(), slot.block(), s, sink)));
        }
        return steps;
    }

    /** One variant's result, grown by one repeat per trial. */
    private static final class Figure {
        private final String variant;
        private final Histogram allPaced = new Histogram(3);
        private final Histogram allB2b = new Histogram(3);
        private Result result;

        Figure(final String variant) {
            this.variant = variant;
        }

        Result trial(final int round, final int block, final Settings s, final Sink sink) throws java.io.IOException {
            try (RoundTrip rt = RoundTrip.create(variant)) {
                if (result == null) {
                    result = new Result("roundtrip", rt.name(), rt.family(), floorName(rt.floor()));
                    result.info().put("pinned host CPU", rt.pinnedCpu());
                    result.info().put("responder threads", rt.responderThreads().size());
                    result.info().put("oversubscribed", 1 + rt.responderThreads().size() > Machine.hostCpus());
                    result.info().put("interleaved", true); // each variant's repeat ran beside its floor's of the same block
                }
                warmUp(rt, s, result.repeats().isEmpty());
                final Map<String, Double> m = new LinkedHashMap<>();
                final Histogram b2b = new Histogram(3);
                long cpu0 = cpu(rt);
                final long until = System.nanoTime() + s.duration().toNanos();
                int sent = 0;
                while (sent < s.backToBackCount() && (sent < 100 || System.nanoTime() < until)) {
                    final long t = System.nanoTime();
                    rt.roundTrip();
                    b2b.recordValue(System.nanoTime() - t);
                    sent++;
                }
                m.put("cpu_b2b_ns", (double) (cpu(rt) - cpu0) / sent);
                // Paced: one request per nominal pace on an absolute schedule that never slips. Latency
                // is taken from each request's intended send time, not from when it really went out
                // (wrk2's correction of coordinated omission): a responder that stalls delays every
                // request scheduled behind it, and those delays are its cost. A late caller sends at
                // once, so the run catches up with its schedule in a burst.
                final Histogram paced = new Histogram(3);
                final Histogram service = new Histogram(3);
                cpu0 = cpu(rt);
                final long pace = s.pace().toNanos();
                long intended = System.nanoTime();
                long firstIntended = 0;
                long lastStart = 0;
                int late = 0;
                for (int i = 0; i < s.pacedSamples(); i++) {
                    intended += pace;
                    if (!awaitSendTime(intended)) {
                        late++;
                    }
                    lastStart = System.nanoTime();
                    if (i == 0) {
                        firstIntended = intended;
                    }
                    rt.roundTrip();
                    final long end = System.nanoTime();
                    paced.recordValue(end - intended);
                    service.recordValue(end - lastStart);
                }
                m.put("cpu_paced_ns", (double) (cpu(rt) - cpu0) / s.pacedSamples());
                m.put("round", (double) round);
                m.put("block", (double) block); // pairs this repeat with its floor's run beside it
                put(m, "b2b", b2b);
                put(m, "paced", paced);
                put(m, "paced_service", service);
                m.put("samples_b2b", (double) sent);
                m.put("samples_paced", (double) s.pacedSamples());
                m.put("pace_nominal_ns", (double) pace);
                // From the first intended send to the last real one: never below the nominal pace (a
                // burst that catches up does not count as a faster pace), above it when the run fell behind.
                m.put("pace_achieved_ns", s.pacedSamples() > 1 ? (double) (lastStart - firstIntended) / (s.pacedSamples() - 1)
                    : Double.NaN);
                m.put("paced_late", (double) late / s.pacedSamples());
                result.addRepeat(m);
                allB2b.add(b2b);
                allPaced.add(paced);
                final int repeat = result.repeats().size() - 1; // a floor runs more than once a round
                sink.histogram(result.name(), repeat, "b2b", b2b);
                sink.histogram(result.name(), repeat, "paced", paced);
                result.distributions().put("paced", Distribution.of(allPaced));
                result.distributions().put("b2b", Distribution.of(allB2b));
                return result;
            }
        }
    }

    /**
     * Waits until {@code intended} ({@code System.nanoTime}): parks while the send is far off and
     * spins the last {@value #PARK_SLACK_NANOS} ns, since a park overshoots by tens of microseconds
     * here and a late generator would charge its own lateness to the responder.
     *
     * @return false if the time had already passed (the send is late)
     */
    static boolean awaitSendTime(final long intended) {
        long now = System.nanoTime();
        if (now >= intended) {
            return false;
        }
        while (now < intended) {
            final long left = intended - now;
            if (left > PARK_SLACK_NANOS) {
                LockSupport.parkNanos(left - PARK_SLACK_NANOS);
            } else {
                Thread.onSpinWait();
            }
            now = System.nanoTime();
        }
        return true;
    }

    /**
     * {@return the name of the floor {@code variant} is compared with, or null where it has none or is a floor itself}
     * ({@link RoundTrip#floorOf}, which starts nothing)
     */
    static String floorOf(final String variant) {
        final String named = floorName(RoundTrip.floorOf(variant));
        return variant.equals(named) ? null : named;
    }

    static String floorName(final RoundTrip.Floor floor) {
        return switch (floor) {
            case SPIN -> "floor-spin";
            case PARK -> "floor-park";
            default -> null;
        };
    }

    private static void warmUp(final RoundTrip rt, final Settings s, final boolean first) {
        final long until = System.nanoTime() + s.warmupTime().toNanos();
        final int count = first ? s.warmupCount() : s.laterWarmupCount();
        for (int i = 0; i < count && (i < 100 || System.nanoTime() < until); i++) {
            rt.roundTrip();
        }
    }

    static void put(final Map<String, Double> m, final String prefix, final Histogram h) {
        m.put(prefix + "_p50_ns", (double) h.getValueAtPercentile(50));
        m.put(prefix + "_p99_ns", (double) h.getValueAtPercentile(99));
        m.put(prefix + "_p999_ns", (double) h.getValueAtPercentile(99.9));
        m.put(prefix + "_max_ns", (double) h.getMaxValue());
    }

    private static long cpu(final RoundTrip rt) {
        long total = 0;
        for (final Thread t : rt.responderThreads()) {
            final long c = THREADS.getThreadCpuTime(t.getId());
            if (c > 0) {
                total += c;
            }
        }
        return total;
    }
}
