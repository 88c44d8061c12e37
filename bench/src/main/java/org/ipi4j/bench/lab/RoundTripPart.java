package org.ipi4j.bench.lab;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.ipi4j.Machine;
import org.ipi4j.bench.RoundTrip;

/**
 * Round trips of one variant: back-to-back (the next request at once) and paced (one request per
 * {@link Settings#pace()} on an absolute schedule, latency from each request's intended send time),
 * with the responder's CPU time per message.
 * Percentiles come from HdrHistogram; every repeat's histograms go to the {@link Sink}.
 */
final class RoundTripPart {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private RoundTripPart() {
    }

    static Result measure(final String variant, final Settings s, final Sink sink) throws Exception {
        final Histogram allPaced = new Histogram(3);
        final Histogram allB2b = new Histogram(3);
        Result result = null;
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (RoundTrip rt = RoundTrip.create(variant)) {
                if (result == null) {
                    result = new Result("roundtrip", rt.name(), rt.family(), floorName(rt.floor()));
                    result.info().put("pinned host CPU", rt.pinnedCpu());
                    result.info().put("responder threads", rt.responderThreads().size());
                    result.info().put("oversubscribed", 1 + rt.responderThreads().size() > Machine.hostCpus());
                }
                warmUp(rt, s);
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
                long firstStart = 0;
                long lastStart = 0;
                int late = 0;
                for (int i = 0; i < s.pacedSamples(); i++) {
                    intended += pace;
                    long now = System.nanoTime();
                    if (now >= intended) {
                        late++;
                    }
                    while (now < intended) {
                        LockSupport.parkNanos(intended - now); // may return early: wait for the schedule
                        now = System.nanoTime();
                    }
                    lastStart = now;
                    if (i == 0) {
                        firstStart = now;
                    }
                    rt.roundTrip();
                    final long end = System.nanoTime();
                    paced.recordValue(end - intended);
                    service.recordValue(end - lastStart);
                }
                m.put("cpu_paced_ns", (double) (cpu(rt) - cpu0) / s.pacedSamples());
                put(m, "b2b", b2b);
                put(m, "paced", paced);
                put(m, "paced_service", service);
                m.put("samples_b2b", (double) sent);
                m.put("samples_paced", (double) s.pacedSamples());
                m.put("pace_nominal_ns", (double) pace);
                m.put("pace_achieved_ns", s.pacedSamples() > 1 ? (double) (lastStart - firstStart) / (s.pacedSamples() - 1)
                    : Double.NaN);
                m.put("paced_late", (double) late / s.pacedSamples());
                result.addRepeat(m);
                allB2b.add(b2b);
                allPaced.add(paced);
                sink.histogram(result.name(), rep, "b2b", b2b);
                sink.histogram(result.name(), rep, "paced", paced);
            }
        }
        result.distributions().put("paced", Distribution.of(allPaced));
        result.distributions().put("b2b", Distribution.of(allB2b));
        return result;
    }

    static String floorName(final RoundTrip.Floor floor) {
        return switch (floor) {
            case SPIN -> "floor-spin";
            case PARK -> "floor-park";
            default -> null;
        };
    }

    private static void warmUp(final RoundTrip rt, final Settings s) {
        final long until = System.nanoTime() + s.warmupTime().toNanos();
        for (int i = 0; i < s.warmupCount() && (i < 100 || System.nanoTime() < until); i++) {
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
