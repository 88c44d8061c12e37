package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HelloIpiTest {
    @Test
    void printsEveryPayloadEachCoreSaw() throws Exception {
        final String text = Stdout.of(HelloIpi::main);
        // Entries may coalesce ("[multicast to {2,3}, broadcast from core 0]"), so count payloads.
        assertThat(text.split("unicast to core 1", -1)).hasSize(2);
        assertThat(text.split("multicast to \\{2,3}", -1)).hasSize(3);
        assertThat(text.split("broadcast from core 0", -1)).hasSize(5);
    }
}
