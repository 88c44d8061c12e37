package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class TourTest {
    @Test
    void theReadmeTourRuns() throws Exception {
        final String text = Stdout.of(Tour::main);
        assertThat(text).contains("ran on core 3; shootdowns: 1; stale accesses after return: 0");
    }
}
