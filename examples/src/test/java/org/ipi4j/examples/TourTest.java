package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TourTest {
    @Test
    void theReadmeTourRuns() throws Exception {
        final PrintStream saved = System.out;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            Tour.main(new String[0]);
        } finally {
            System.setOut(saved);
        }
        assertThat(out.toString()).contains("ran on core 3; shootdowns: 1; stale accesses after return: 0");
    }
}
