package org.ipi4j.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Pinner;
import org.ipi4j.Pinning;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class OpenHftPinnerTest {
    @Test
    void isFoundOnTheClassPath() {
        assertThat(Pinner.fromClassPath()).isInstanceOf(OpenHftPinner.class);
        assertThat(Machine.builder().build().pinner()).isInstanceOf(OpenHftPinner.class);
        assertThat(Machine.builder().pinning(Pinning.NONE).build().pinner()).isNull();
    }

    /** Best effort: each core is pinned to a distinct host CPU or runs unpinned (-1), never dead. */
    @Test
    void coresArePinnedToDistinctCpusOrRunUnpinned() throws Exception {
        try (Machine m = Machine.builder().cores(2).build().start()) {
            final int a = m.core(0).hostCpu();
            final int b = m.core(1).hostCpu();
            assertThat(a).isGreaterThanOrEqualTo(-1).isLessThan(Machine.hostCpus());
            assertThat(b).isGreaterThanOrEqualTo(-1).isLessThan(Machine.hostCpus());
            if (a >= 0 && b >= 0) {
                assertThat(a).isNotEqualTo(b);
            }
            assertThat(m.core(1).submit(() -> Core.current().id()).get()).isEqualTo(1);
        }
    }
}
