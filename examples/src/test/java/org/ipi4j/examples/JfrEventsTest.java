package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.ipi4j.observability.CoreParkedEvent;
import org.ipi4j.observability.CrossCallEvent;
import org.ipi4j.observability.InterruptHandledEvent;
import org.ipi4j.observability.InterruptSentEvent;
import org.ipi4j.observability.ShootdownEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tour recorded with the repository's ipi4j.jfc: every ipi4j event type appears, with the
 * fields the tour's own calls imply. With the JDK's default settings none appears (off by default).
 */
@Timeout(60)
class JfrEventsTest {
    static final String JFC = "/org/ipi4j/observability/ipi4j.jfc";

    @Test
    void theTourRecordedWithIpi4jJfcShowsEveryEventWithItsFields(@TempDir final Path dir) throws Exception {
        // Once without a recording first: the event classes (and their probes) exist before the
        // recording starts, as in an application that turns JFR on while it runs.
        Stdout.of(Tour::main);
        final Map<String, List<RecordedEvent>> byType = record(ipi4jSettings(), dir.resolve("tour.jfr"));
        assertThat(byType).containsKeys(InterruptSentEvent.NAME, InterruptHandledEvent.NAME, CrossCallEvent.NAME,
            ShootdownEvent.NAME, CoreParkedEvent.NAME);

        // Tour step 2: 0x40 to core 1, to {2, 3} and to all four, from the test thread (source -1).
        final List<RecordedEvent> hello = byType.get(InterruptSentEvent.NAME).stream()
            .filter(e -> e.getInt("vector") == 0x40).collect(Collectors.toList());
        assertThat(hello).hasSize(1 + 2 + 4);
        assertThat(hello).allSatisfy(e -> assertThat(e.getInt("source")).isEqualTo(-1));
        assertThat(hello.stream().map(e -> e.getInt("target")).sorted().collect(Collectors.toList()))
            .containsExactly(0, 1, 1, 2, 2, 3, 3);

        // Every hello payload was handled by the core it was sent to, after its send.
        final List<RecordedEvent> handled = byType.get(InterruptHandledEvent.NAME).stream()
            .filter(e -> e.getInt("vector") == 0x40).collect(Collectors.toList());
        assertThat(handled.stream().mapToInt(e -> e.getInt("payloads")).sum()).isEqualTo(7);
        assertThat(handled).allSatisfy(e -> {
            assertThat(e.getInt("core")).isBetween(0, 3);
            assertThat(e.getDuration().isNegative()).isFalse();
            assertThat(e.getDuration("deliveryLatency").toNanos()).isPositive(); // every send was recorded
        });

        // Step 3: call(3) waited, run on {0..3} as a tree(2), onEachCoreAsync without waiting.
        final List<RecordedEvent> calls = byType.get(CrossCallEvent.NAME);
        assertThat(calls).anySatisfy(e -> {
            assertThat(e.getString("targets")).isEqualTo("[3]");
            assertThat(e.getBoolean("waited")).isTrue();
            assertThat(e.getInt("caller")).isEqualTo(-1);
            assertThat(e.getBoolean("failed")).isFalse();
        });
        assertThat(calls).anySatisfy(e -> {
            assertThat(e.getInt("targetCount")).isEqualTo(4);
            assertThat(e.getString("shape")).contains("tree");
            assertThat(e.getBoolean("waited")).isTrue();
        });
        assertThat(calls).anySatisfy(e -> {
            assertThat(e.getInt("targetCount")).isEqualTo(4);
            assertThat(e.getBoolean("waited")).isFalse();
        });

        // Step 4: one shootdown of one page; core 2 ran the space, the initiator is the test thread.
        final List<RecordedEvent> shootdowns = byType.get(ShootdownEvent.NAME);
        assertThat(shootdowns).hasSize(1);
        final RecordedEvent sd = shootdowns.get(0);
        assertThat(sd.getInt("pages")).isEqualTo(1);
        assertThat(sd.getInt("targets")).isEqualTo(1);
        assertThat(sd.getBoolean("fullFlush")).isFalse();
        assertThat(sd.getDuration("window").toNanos()).isPositive();

        // Adaptive idle: cores spin briefly, then park between the tour's steps.
        assertThat(byType.get(CoreParkedEvent.NAME)).allSatisfy(e -> assertThat(e.getInt("core")).isBetween(0, 3));
    }

    @Test
    void theJdksDefaultSettingsRecordNoIpi4jEvent(@TempDir final Path dir) throws Exception {
        final Map<String, List<RecordedEvent>> byType = record(Configuration.getConfiguration("default"),
            dir.resolve("default.jfr"));
        assertThat(byType.keySet()).noneMatch(name -> name.startsWith("org.ipi4j."));
        assertThat(byType).isNotEmpty(); // the recording itself worked: the JDK's events are there
    }

    static Configuration ipi4jSettings() throws Exception {
        try (Reader r = new InputStreamReader(JfrEventsTest.class.getResourceAsStream(JFC), StandardCharsets.UTF_8)) {
            return Configuration.create(r);
        }
    }

    private static Map<String, List<RecordedEvent>> record(final Configuration settings, final Path file)
            throws Exception {
        try (Recording recording = new Recording(settings)) {
            recording.start();
            Stdout.of(Tour::main);
            recording.stop();
            recording.dump(file);
        }
        assertThat(Files.size(file)).isPositive();
        return RecordingFile.readAllEvents(file).stream()
            .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
    }
}
