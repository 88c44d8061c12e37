package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The load curve's behaviour: every request answered and counted, latency from the intended time, bad plans refused. */
@Timeout(120)
class LoadPartTest {
    static List<String> services() {
        return LoadService.NAMES;
    }

    @ParameterizedTest
    @MethodSource("services")
    void everyServiceAnswersEveryRequestSentByTwoCallers(final String name) throws Exception {
        for (int repeat = 0; repeat < 3; repeat++) {
            final Map<String, Double> m = new LinkedHashMap<>();
            try (LoadService s = LoadService.create(name)) {
                LoadPart.point(s, 2, 20_000, Duration.ofMillis(5).toNanos(), new LinkedHashMap<>()); // as the lab warms up
                LoadPart.point(s, 2, 20_000, Duration.ofMillis(20).toNanos(), m);
            }
            final double samples = m.get(LoadPart.key(20_000, "samples"));
            // 2 callers x (20 ms / 100 us) requests: all sent, all completed, none lost or left unsent.
            assertThat(samples).as(name).isEqualTo(400);
            assertThat(m.get(LoadPart.key(20_000, "lost"))).as(name).isZero();
            assertThat(m.get(LoadPart.key(20_000, "unsent"))).as(name).isZero();
            assertThat(m.get(LoadPart.key(20_000, "done_per_s"))).as(name).isPositive();
            assertThat(m.get(LoadPart.key(20_000, "lat_p50_ns"))).as(name).isPositive();
        }
    }

    @Test
    void latencyIsTakenFromTheIntendedSendTimeSoAStallIsChargedToEveryRequestBehindIt() throws Exception {
        // A waited service that stalls its first request until the schedule has run 10 ms past it:
        // the requests intended during the stall are sent late, and their latency counts from their
        // intended times, so the largest is at least the stall (a lower bound: a slow host only adds).
        final long stall = TimeUnit.MILLISECONDS.toNanos(10);
        final AtomicInteger calls = new AtomicInteger();
        final LoadService stalling = new LoadService("stalling") {
            @Override
            Requests requests(final int outstanding, final Sink sink) {
                return intended -> {
                    if (calls.getAndIncrement() == 0) {
                        while (System.nanoTime() < intended + stall) {
                            Thread.onSpinWait();
                        }
                    }
                    sink.done(intended);
                };
            }

            @Override
            public void close() {
            }
        };
        final Map<String, Double> m = new LinkedHashMap<>();
        LoadPart.point(stalling, 1, 10_000, TimeUnit.MILLISECONDS.toNanos(30), m);
        assertThat(m.get(LoadPart.key(10_000, "samples"))).isEqualTo(300);
        assertThat(m.get(LoadPart.key(10_000, "lat_p50_ns"))).isPositive();
        // p99 of 300 samples is the 3rd largest: the first request and those intended in the stall's first ms.
        assertThat(m.get(LoadPart.key(10_000, "lat_p99_ns"))).isGreaterThanOrEqualTo((double) stall * 0.8);
    }

    @Test
    void aFailedRequestIsNamedNotCountedAsDone() {
        final LoadService failing = new LoadService("failing") {
            @Override
            Requests requests(final int outstanding, final Sink sink) {
                return new Ring(outstanding, sink) {
                    @Override
                    void submit(final LoadService.Request r) {
                        r.accept(null, new IllegalStateException("refused by the test"));
                    }
                };
            }

            @Override
            public void close() {
            }
        };
        assertThatThrownBy(() -> LoadPart.point(failing, 1, 10_000, TimeUnit.MILLISECONDS.toNanos(5), new LinkedHashMap<>()))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("50 of 50 requests to failing failed")
            .hasRootCauseMessage("refused by the test");
    }

    @Test
    void anAsyncCallerWaitsForItsOldestRequestWhenAllAreInFlight() throws Exception {
        // A service that holds every request until released: a caller with 4 outstanding stops at 4.
        final CountDownLatch release = new CountDownLatch(1);
        final List<LoadService.Request> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        final LoadService holding = new LoadService("holding") {
            @Override
            Requests requests(final int outstanding, final Sink sink) {
                return new Ring(outstanding, sink) {
                    @Override
                    void submit(final LoadService.Request r) {
                        held.add(r);
                    }
                };
            }

            @Override
            public void close() {
            }
        };
        final LoadService.Requests caller = holding.requests(4, new LoadService.Sink() {
            @Override
            public void done(final long intended) {
            }

            @Override
            public void failed(final Throwable failure) {
            }
        });
        final Thread t = new Thread(() -> {
            for (int i = 0; i < 5; i++) {
                caller.send(System.nanoTime());
            }
            release.countDown();
        });
        t.setDaemon(true);
        t.start();
        final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.size() < 4 && System.nanoTime() < until) {
            Thread.yield();
        }
        assertThat(held).hasSize(4);
        assertThat(release.await(50, TimeUnit.MILLISECONDS)).as("the 5th send waits for the oldest").isFalse();
        held.get(0).run(); // the oldest completes: its slot is free, and the 5th request reuses it
        assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(held).hasSize(5);
        assertThat(held.get(4)).isSameAs(held.get(0));
    }

    @Test
    void badPlansAreRefusedNamingTheValue() {
        final Duration d = Duration.ofMillis(10);
        assertThatThrownBy(() -> new LoadPart.Plan(List.of("warp"), List.of(1), List.of(1000L), d, 1, 1))
            .hasMessageContaining("unknown load service warp");
        assertThatThrownBy(() -> new LoadPart.Plan(List.of("ipi"), List.of(0), List.of(1000L), d, 1, 1))
            .hasMessageContaining("callers must be 1 to 64, not 0");
        assertThatThrownBy(() -> new LoadPart.Plan(List.of("ipi"), List.of(1), List.of(0L), d, 1, 1))
            .hasMessageContaining("not 0");
        assertThatThrownBy(() -> new LoadPart.Plan(List.of("ipi"), List.of(1), List.of(1000L), Duration.ZERO, 1, 1))
            .hasMessageContaining("point time must be positive");
        assertThatThrownBy(() -> new LoadPart.Plan(List.of("ipi"), List.of(1), List.of(1000L), d, 0, 1))
            .hasMessageContaining("rounds must be at least 1, not 0");
        assertThat(LabCommandTest.lab("load", "--callers", "0").err()).contains("callers must be 1 to 64, not 0");
        assertThat(LabCommandTest.lab("load", "--services", "ipi,warp").code()).isEqualTo(2);
    }

    @Test
    void theCommandPrintsOneRowPerCurveAndRateInServiceOrderWithUnsupportedPercentilesDashed() {
        final LabCommandTest.Run run = LabCommandTest.lab("load", "--services", "executor,call", "--callers", "1",
            "--rates", "5000,20000", "--point", "20ms", "--rounds", "2");
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        final List<String> rows = run.out().lines().filter(l -> l.startsWith("| call") || l.startsWith("| executor")).toList();
        assertThat(rows).hasSize(4);
        assertThat(rows.get(0)).startsWith("| call | 1 |");
        assertThat(rows.get(3)).startsWith("| executor | 1 |");
        // 20 ms at 5000/s is 100 samples: no percentile has 1,000 beyond it.
        assertThat(rows.get(0).split("\\|")[7].trim()).isEqualTo("-");
        assertThat(run.out()).contains("*offered*", "coordinated omission");
    }

    @Test
    void theMainJobsLoadCurvesSurviveResultsJson(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("--smoke", "--variants", "loadcurve", "--out", dir.toString());
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        final Compare.Run results = Compare.read(dir.resolve("results.json"));
        final List<Result> load = results.results().stream().filter(r -> r.part().equals("load")).toList();
        assertThat(load).hasSize(LoadService.NAMES.size() * LoadPart.CALLERS.size());
        final Table again = LoadPart.table(load); // rates read back from JSON as numbers, not Longs
        assertThat(again.markdown().lines().filter(l -> l.startsWith("| sharded |")).count()).isEqualTo(4);
        assertThat(java.nio.file.Files.readString(dir.resolve("report.md"))).contains(Report.LOAD, "| disruptor | 2 |");
    }
}
