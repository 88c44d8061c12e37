package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.ipi4j.Machine;

/**
 * The load curve: throughput and latency against offered load, open loop, for 1 to N concurrent
 * callers (outside threads) of one service ({@link LoadService}): an ipi4j IPI, a waited and an
 * async cross-core call, {@code Sharded.invokeOn}, the Disruptor and an executor.
 *
 * <p>Each caller sends its share of the offered rate on an absolute schedule that never slips
 * (the callers' schedules staggered by a fraction of the interval), and each request's latency is
 * taken from its intended send time to its completion: a service that falls behind is charged for
 * every request queued behind it (coordinated omission corrected, as wrk2 does). A waited service
 * has one request per caller outstanding; an async one up to {@value #OUTSTANDING} per caller,
 * beyond which the caller waits for the oldest (a bounded generator, and that wait is charged
 * too). The achieved offer (sent per second, first intended send to last real one) is reported
 * beside the nominal one, and the throughput is completions per second from the first intended
 * send to the last completion.
 *
 * <p>Interleaved as the round trips are: every round runs each curve once in a fresh random order,
 * and within a curve its offered rates in a fresh random order, so a speed regime of the host falls
 * on all of them alike; a curve's repeats are its rounds. Nothing is lost silently: a request not
 * sent within the point's time budget is counted as unsent, one sent and not completed within it as
 * lost, and both are reported.
 */
final class LoadPart {
    /** Async requests a caller may have outstanding before it waits for the oldest. */
    static final int OUTSTANDING = 4096;
    /** The main job's offered rates (total requests per second over all callers). */
    static final List<Long> RATES = List.of(30_000L, 100_000L, 300_000L, 1_000_000L);
    /** The main job's caller counts. */
    static final List<Integer> CALLERS = List.of(1, 2);

    private LoadPart() {
    }

    /**
     * What to run: services, caller counts and offered rates, the measuring time of one point,
     * the rounds and the seed of the orders.
     *
     * @param services services by name ({@link LoadService#NAMES})
     * @param callers  caller counts
     * @param rates    offered rates, total requests per second
     * @param point    measuring time of one point (one service, caller count and rate)
     * @param rounds   rounds (a curve's repeats)
     * @param seed     seed of the shuffled orders
     */
    record Plan(List<String> services, List<Integer> callers, List<Long> rates, java.time.Duration point, int rounds,
                long seed) {
        Plan {
            for (final String s : services) {
                if (!LoadService.NAMES.contains(s)) {
                    throw new IllegalArgumentException("unknown load service " + s + "; known: " + LoadService.NAMES);
                }
            }
            for (final int c : callers) {
                if (c < 1 || c > 64) {
                    throw new IllegalArgumentException("callers must be 1 to 64, not " + c);
                }
            }
            for (final long r : rates) {
                if (r < 1 || r > 100_000_000L) {
                    throw new IllegalArgumentException("offered rate must be 1 to 100000000 per second, not " + r);
                }
            }
            if (point.toNanos() <= 0) {
                throw new IllegalArgumentException("point time must be positive, not " + point);
            }
            if (rounds < 1) {
                throw new IllegalArgumentException("rounds must be at least 1, not " + rounds);
            }
            services = List.copyOf(services);
            callers = List.copyOf(callers);
            rates = List.copyOf(rates);
        }

        /** The main job's plan: every service, {@link #CALLERS}, {@link #RATES}. */
        static Plan of(final Settings s) {
            return new Plan(LoadService.NAMES, CALLERS, s.smoke() ? List.of(10_000L, 100_000L) : RATES,
                java.time.Duration.ofMillis(s.smoke() ? 20 : 100), s.smoke() ? 1 : 2, s.seed());
        }
    }

    /** One step per curve and round, curves shuffled per round; a curve's later rounds add to its first result. */
    static List<LabRun.Step> steps(final Plan plan) {
        final Map<String, Curve> curves = new LinkedHashMap<>();
        for (final String service : plan.services()) {
            for (final int n : plan.callers()) {
                curves.put(service + " x" + n, new Curve(service, n, plan));
            }
        }
        final Random random = new Random(plan.seed());
        final List<LabRun.Step> steps = new ArrayList<>();
        for (int round = 0; round < plan.rounds(); round++) {
            final List<Curve> order = new ArrayList<>(curves.values());
            Collections.shuffle(order, random);
            for (final Curve c : order) {
                final int r = round;
                final List<Long> rates = new ArrayList<>(plan.rates());
                Collections.shuffle(rates, random);
                steps.add(new LabRun.Step("load curve " + c.result.name() + " (round " + (round + 1) + "/" + plan.rounds()
                    + ")", () -> c.round(r, rates)));
            }
        }
        return steps;
    }

    /** Metric key of one offered rate's figure. */
    static String key(final long rate, final String figure) {
        return "at" + rate + "_" + figure;
    }

    /** One service and caller count, over every rate; grows by one repeat per round. */
    private static final class Curve {
        final String service;
        final int callers;
        final Plan plan;
        final Result result;

        Curve(final String service, final int callers, final Plan plan) {
            this.service = service;
            this.callers = callers;
            this.plan = plan;
            this.result = new Result("load", "load " + service + " x" + callers, LoadService.family(service), null);
            result.info().put("service", service);
            result.info().put("callers", callers);
            result.info().put("rates", plan.rates());
            result.info().put("point", plan.point().toString());
            result.info().put("interleaved", true);
        }

        /** Whether this curve's warm-up round ran (the first of its steps runs it). */
        private boolean warmed;

        Result round(final int round, final List<Long> rates) throws InterruptedException {
            if (!warmed) {
                // Every rate once first, nothing kept: the service's code is new to the JIT here,
                // and while the compiler threads share this host's CPUs with a spinning caller and
                // responder, a point stalls for milliseconds at a time (points measured in a fresh
                // JVM had p50s of 0.1-2 ms for their first second or so, 0.3-0.5 us afterwards).
                warmed = true;
                for (final long rate : rates) {
                    try (LoadService s = LoadService.create(service)) {
                        point(s, callers, rate, plan.point().toNanos(), new LinkedHashMap<>());
                    }
                }
            }
            final Map<String, Double> m = new LinkedHashMap<>();
            m.put("round", (double) round);
            for (final long rate : rates) {
                try (LoadService s = LoadService.create(service)) {
                    result.info().put("oversubscribed", callers + s.responderThreads() > Machine.hostCpus());
                    point(s, callers, rate, plan.point().toNanos() / 5, new LinkedHashMap<>()); // warm-up, not kept
                    point(s, callers, rate, plan.point().toNanos(), m);
                }
            }
            result.addRepeat(m);
            return result;
        }
    }

    /**
     * One point: {@code callers} threads send {@code rate} requests per second between them for
     * {@code nanos}, and the point's figures go into {@code m} under {@link #key}.
     */
    static void point(final LoadService service, final int callers, final long rate, final long nanos,
                      final Map<String, Double> m) throws InterruptedException {
        final long interval = Math.max(1, 1_000_000_000L * callers / rate); // each caller's share of the rate
        final long perCaller = Math.max(1, nanos / interval);
        final Histogram latency = new ConcurrentHistogram(3);
        final LongAdder done = new LongAdder();
        final AtomicLong lastDone = new AtomicLong();
        final LongAdder failed = new LongAdder();
        final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        final LoadService.Sink sink = new LoadService.Sink() {
            @Override
            public void done(final long intended) {
                final long now = System.nanoTime();
                latency.recordValue(Math.max(0, now - intended));
                lastDone.accumulateAndGet(now, Math::max);
                done.increment();
            }

            @Override
            public void failed(final Throwable failure) {
                firstFailure.compareAndSet(null, failure);
                failed.increment();
                done.increment(); // answered, so the drain below does not wait for it
            }
        };
        final Caller[] workers = new Caller[callers];
        final CountDownLatch ready = new CountDownLatch(callers);
        final CountDownLatch go = new CountDownLatch(1);
        for (int c = 0; c < callers; c++) {
            workers[c] = new Caller(service, sink, interval, perCaller, c * interval / callers, budget(nanos), ready, go);
            workers[c].start();
        }
        ready.await();
        final long start = System.nanoTime() + 1_000_000; // every caller's schedule starts 1 ms from now
        for (final Caller w : workers) {
            w.start = start;
        }
        go.countDown();
        long sent = 0;
        long unsent = 0;
        long lastSend = start;
        for (final Caller w : workers) {
            w.join();
            if (w.failure != null) {
                throw new IllegalStateException("load caller of " + service.name() + " failed", w.failure);
            }
            sent += w.sent;
            unsent += perCaller - w.sent;
            lastSend = Math.max(lastSend, w.lastSend);
        }
        // Completions may still be on their way (async services): wait for them, within a budget.
        final long drainUntil = System.nanoTime() + budget(nanos);
        while (done.sum() < sent && System.nanoTime() < drainUntil) {
            Thread.onSpinWait();
            Thread.yield();
        }
        if (firstFailure.get() != null) {
            throw new IllegalStateException(failed.sum() + " of " + sent + " requests to " + service.name()
                + " failed; the first", firstFailure.get());
        }
        final long completed = done.sum();
        final double secs = Math.max(1, lastDone.get() - start) / 1e9;
        m.put(key(rate, "offered_per_s"), (double) rate);
        m.put(key(rate, "sent_per_s"), sent > 1 ? sent / (Math.max(1, lastSend - start) / 1e9) : Double.NaN);
        m.put(key(rate, "done_per_s"), completed / secs);
        m.put(key(rate, "lat_p50_ns"), (double) latency.getValueAtPercentile(50));
        m.put(key(rate, "lat_p90_ns"), (double) latency.getValueAtPercentile(90));
        m.put(key(rate, "lat_p99_ns"), (double) latency.getValueAtPercentile(99));
        m.put(key(rate, "samples"), (double) latency.getTotalCount());
        m.put(key(rate, "unsent"), (double) unsent);
        m.put(key(rate, "lost"), (double) (sent - completed));
    }

    /**
     * How long a point may send, and then drain, before what is left is counted unsent or lost:
     * four times its measuring time, and at least half a second, so that a host's hiccup (a cold
     * class load, a descheduled responder) is measured as latency rather than cut off.
     */
    static long budget(final long nanos) {
        return Math.max(nanos * 4, TimeUnit.MILLISECONDS.toNanos(500));
    }

    /** One open-loop caller: sends its requests on an absolute schedule, each stamped with its intended time. */
    private static final class Caller extends Thread {
        private final LoadService service;
        private final LoadService.Sink sink;
        private final long interval;
        private final long count;
        private final long offset;
        private final long budget;
        private final CountDownLatch ready;
        private final CountDownLatch go;
        /** Written before {@code go} opens; read after it (the latch's happens-before). */
        long start;
        long sent;
        long lastSend;
        Throwable failure;

        Caller(final LoadService service, final LoadService.Sink sink, final long interval, final long count,
               final long offset, final long budget, final CountDownLatch ready, final CountDownLatch go) {
            super("load-caller");
            setDaemon(true);
            this.service = service;
            this.sink = sink;
            this.interval = interval;
            this.count = count;
            this.offset = offset;
            this.budget = budget;
            this.ready = ready;
            this.go = go;
        }

        @Override
        public void run() {
            try {
                final LoadService.Requests mine = service.requests(OUTSTANDING, sink);
                ready.countDown();
                go.await();
                final long first = start + offset;
                final long giveUp = start + budget; // a service far behind its schedule: stop sending, count the rest
                for (long i = 0; i < count; i++) {
                    final long intended = first + i * interval;
                    RoundTripPart.awaitSendTime(intended);
                    final long now = System.nanoTime();
                    if (now > giveUp) {
                        break;
                    }
                    mine.send(intended);
                    sent++;
                    lastSend = now;
                }
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    /** The load section: one row per service, caller count and offered rate. */
    static Table table(final List<Result> load) {
        final Table t = new Table("service", "callers", "oversubscribed", "offered /s", "sent /s", "done /s", "p50",
            "p90", "p99", "unsent", "lost");
        final List<Result> sorted = new ArrayList<>(load); // curves ran shuffled; the table is in service order
        sorted.sort(java.util.Comparator.comparingInt((Result r) -> LoadService.NAMES.indexOf(String.valueOf(r.info()
            .get("service")))).thenComparingInt(r -> ((Number) r.info().get("callers")).intValue()));
        for (final Result r : sorted) {
            if (r.repeats().isEmpty()) {
                continue;
            }
            @SuppressWarnings("unchecked")
            final List<Number> rates = (List<Number>) r.info().get("rates"); // Longs, or numbers read back from JSON
            for (final Number n : rates) {
                final long rate = n.longValue();
                final double samples = r.median(key(rate, "samples"));
                t.row(String.valueOf(r.info().get("service")), String.valueOf(r.info().get("callers")),
                    Boolean.TRUE.equals(r.info().get("oversubscribed")) ? "yes" : "no", rate(rate),
                    rate(r.median(key(rate, "sent_per_s"))), rate(r.median(key(rate, "done_per_s"))),
                    percentile(r, rate, "p50", 0.5, samples), percentile(r, rate, "p90", 0.9, samples),
                    percentile(r, rate, "p99", 0.99, samples), count(r.max(key(rate, "unsent"))),
                    count(r.max(key(rate, "lost"))));
            }
        }
        return t;
    }

    /** A percentile, or "-" where fewer than {@link Report#MIN_BEYOND} samples lie beyond it. */
    private static String percentile(final Result r, final long rate, final String p, final double q, final double samples) {
        if (Double.isNaN(samples) || samples * (1 - q) < Report.MIN_BEYOND - 1e-9) {
            return "-";
        }
        return Report.us(r.median(key(rate, "lat_" + p + "_ns")));
    }

    private static String rate(final double perSecond) {
        if (Double.isNaN(perSecond)) {
            return "";
        }
        return perSecond >= 1e6 ? String.format(Locale.ROOT, "%.2fM", perSecond / 1e6)
            : String.format(Locale.ROOT, "%.0fk", perSecond / 1e3);
    }

    private static String count(final double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.0f", v);
    }
}
