package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TourTest {
    @Test
    void theReadmeTourRuns() throws Exception {
        final String text = Stdout.of(Tour::main);
        assertThat(text).contains("ran on core 3; shootdowns: 1; stale accesses after return: 0");
    }

    /** The user guide shows Tour.java whole, imports included: the page cannot drift from the code the build runs. */
    @Test
    void theGuidesTourIsTheTourCode() throws Exception {
        final String guide = Files.readString(Path.of("../docs/GUIDE.md"));
        final int tour = guide.indexOf("## API tour");
        final int start = guide.indexOf("```java\n", tour) + "```java\n".length();
        final int end = guide.indexOf("```", start);
        assertThat(tour).isNotNegative();
        final String snippet = lines(guide.substring(start, end));
        final String code = lines(Files.readString(Path.of("src/main/java/org/ipi4j/examples/Tour.java")));
        assertThat(snippet).isNotEmpty().isEqualTo(code);
    }

    /** Non-blank lines without their indentation, one per line. */
    private static String lines(final String text) {
        final List<String> out = Arrays.stream(text.split("\n")).map(String::strip).filter(l -> !l.isEmpty())
            .collect(Collectors.toList());
        return String.join("\n", out);
    }
}
