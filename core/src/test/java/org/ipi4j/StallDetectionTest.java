package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.observability.CoreStall;
import org.ipi4j.observability.CoreStalledEvent;
import org.ipi4j.sim.Simulation;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stall detection ({@code Machine.Builder.stallThreshold}): a running core without an instruction
 * boundary for longer than the threshold is reported once per stall, with its stack; one that
 * checkpoints, or is parked idle, is not. Thresholds are generous (the host is shared and may
 * deschedule a core thread for a while), and the runs last several thresholds.
 */
@Timeout(60)
class StallDetectionTest {
    private static final Duration THRESHOLD = Duration.ofMillis(150);

    private final List<CoreStall> stalls = new CopyOnWriteArrayList<>();
    private final CountDownLatch reported = new CountDownLatch(1);

    private Machine machine(final IdlePolicy idle) {
        return Machine.builder().cores(2).idlePolicy(idle).pinning(Pinning.NONE).stallThreshold(THRESHOLD)
            .onStall(s -> {
                stalls.add(s);
                reported.countDown();
            }).build().start();
    }

    /** Spins on the calling core, with no boundary, until {@code nanos} have passed since {@code until} was reached. */
    private static void spinWithoutCheckpoint(final CountDownLatch until, final long nanos) {
        while (until.getCount() > 0) {
            Thread.onSpinWait();
        }
        final long end = System.nanoTime() + nanos;
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aTaskThatSpinsWithoutACheckpointIsReportedExactlyOnceWithItsStack() throws Exception {
        try (Machine m = machine(IdlePolicy.park())) {
            // After the report it goes on spinning for four more thresholds: still one stall.
            m.core(1).submit(() -> spinWithoutCheckpoint(reported, 4 * THRESHOLD.toNanos())).get(30, TimeUnit.SECONDS);
            assertThat(stalls).hasSize(1);
            final CoreStall s = stalls.get(0);
            assertThat(s.cpu()).isEqualTo(1);
            assertThat(s.stalledNanos()).isGreaterThanOrEqualTo(THRESHOLD.toNanos());
            assertThat(s.description()).startsWith("core 1 [RUNNING");
            assertThat(s.stack()).anySatisfy(f -> assertThat(f.getMethodName()).isEqualTo("spinWithoutCheckpoint"));
            assertThat(s.toString()).contains("stalled for", "spinWithoutCheckpoint");
            assertThat(m.core(1).stats().stalls()).isEqualTo(1);
            assertThat(m.core(0).stats().stalls()).isZero();
        }
    }

    @Test
    void aStallIsAJfrEventWithTheCoresStack(@TempDir final Path dir) throws Exception {
        final Path file = dir.resolve("stall.jfr");
        try (Reader jfc = new InputStreamReader(getClass().getResourceAsStream("/org/ipi4j/observability/ipi4j.jfc"),
                StandardCharsets.UTF_8); Recording recording = new Recording(Configuration.create(jfc))) {
            recording.start();
            try (Machine m = machine(IdlePolicy.park())) {
                m.core(1).submit(() -> spinWithoutCheckpoint(reported, 0)).get(30, TimeUnit.SECONDS);
            }
            recording.stop();
            recording.dump(file);
        }
        final List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
            .filter(e -> e.getEventType().getName().equals(CoreStalledEvent.NAME)).toList();
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getInt("core")).isEqualTo(1);
        assertThat(events.get(0).getDuration("stalled")).isGreaterThanOrEqualTo(THRESHOLD);
        assertThat(events.get(0).getString("stack")).contains("spinWithoutCheckpoint");
    }

    @Test
    void aCheckpointBetweenTwoStallsMakesTwoReports() throws Exception {
        try (Machine m = machine(IdlePolicy.park())) {
            final CountDownLatch second = new CountDownLatch(1);
            m.core(0).submit(() -> {
                spinWithoutCheckpoint(reported, 0);
                Core.current().checkpoint(); // the first stall ends here
                while (stalls.size() < 2) {
                    Thread.onSpinWait();
                }
                second.countDown();
            });
            assertThat(second.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(stalls).extracting(CoreStall::cpu).containsExactly(0, 0);
        }
    }

    @Test
    void aStallDuringABroadcastIsReportedAndTheBroadcastCompletesWhenItEnds() throws Exception {
        try (Machine m = machine(IdlePolicy.park())) {
            final SmpCall smp = SmpCall.install(m);
            final CountDownLatch spinning = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            m.core(1).submit(() -> {
                spinning.countDown();
                spinWithoutCheckpoint(release, 0); // takes no interrupt: the broadcast waits for it
            });
            assertThat(spinning.await(10, TimeUnit.SECONDS)).isTrue();
            final AtomicIntegerArray ran = new AtomicIntegerArray(2);
            final CallCompletion<Void> all = smp.onEachCoreAsync(ran::incrementAndGet);
            assertThat(reported.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(stalls).extracting(CoreStall::cpu).containsExactly(1);
            assertThat(all).isNotDone(); // core 1 has not taken the call: it is the stall
            release.countDown();
            all.get(10, TimeUnit.SECONDS);
            assertThat(ran.get(0) + ran.get(1)).isEqualTo(2);
            assertThat(stalls).hasSize(1);
        }
    }

    @Test
    void aTaskThatCheckpointsAPreemptedCoreAndAParkedIdleCoreAreNotStalls() throws Exception {
        try (Machine m = machine(IdlePolicy.park())) {
            // Core 0 checkpoints for six thresholds; core 1 is preempted for the first three, then parked.
            m.core(1).preempt(THRESHOLD.multipliedBy(3));
            m.core(0).submit(() -> {
                final long end = System.nanoTime() + 6 * THRESHOLD.toNanos();
                while (System.nanoTime() - end < 0) {
                    Core.current().checkpoint();
                }
            }).get(30, TimeUnit.SECONDS);
            assertThat(stalls).isEmpty();
            assertThat(m.core(1).state()).isEqualTo(Core.State.IDLE_PARKED);
        }
    }

    @Test
    void aListenerThatThrowsIsAnOopsAndTheWatchGoesOn() throws Exception {
        final CountDownLatch calls = new CountDownLatch(2);
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
                .stallThreshold(THRESHOLD).onStall(s -> {
                    calls.countDown();
                    throw new IllegalStateException("listener");
                }).build().start()) {
            for (int cpu = 0; cpu < 2; cpu++) {
                m.core(cpu).submit(() -> spinWithoutCheckpoint(calls, 0));
            }
            assertThat(calls.await(30, TimeUnit.SECONDS)).isTrue(); // both cores reported: the first throw did not end the watch
            assertThat(m.oopses()).anySatisfy(o -> assertThat(o.what()).isEqualTo("stall listener threw"));
        }
    }

    @Test
    void theThresholdIsCheckedAndASimulationStartsNoWatch() throws Exception {
        assertThatThrownBy(() -> Machine.builder().stallThreshold(Duration.ofNanos(999_999)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stallThreshold");
        final Simulation sim = Simulation.builder().seed(1).build();
        try (Machine m = Machine.builder().name("stall-sim").cores(1).simulation(sim).stallThreshold(THRESHOLD).build()
                .start()) {
            assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals(m.name() + "-stall-watch") && t.isAlive());
        }
    }
}
