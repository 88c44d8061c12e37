package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The core stays lean: it runs on JCTools, Agrona and HdrHistogram alone (its test class path is
 * its runtime class path plus JUnit and AssertJ), with no native pinning and no logging library;
 * best-effort pinning without a pinner on the class path runs cores unpinned.
 */
@Timeout(30)
class LeanCoreTest {
    @Test
    void runsWithoutNativeAffinityOrLogging() {
        assertThatThrownBy(() -> Class.forName("net.openhft.affinity.AffinityLock")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("org.slf4j.Logger")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("com.sun.jna.Native")).isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void dependsOnJctoolsAgronaAndHdrHistogram() throws Exception {
        assertThat(Class.forName("org.jctools.queues.MpscArrayQueue")).isNotNull();
        assertThat(Class.forName("org.agrona.concurrent.IdleStrategy")).isNotNull();
        assertThat(Class.forName("org.HdrHistogram.Histogram")).isNotNull();
    }

    @Test
    void bestEffortPinningWithoutAPinnerRunsUnpinned() throws Exception {
        try (Machine m = Machine.builder().cores(2).pinning(Pinning.BEST_EFFORT).build().start()) {
            assertThat(m.pinner()).isNull();
            assertThat(m.core(0).hostCpu()).isEqualTo(-1);
            assertThat(m.core(1).submit(() -> Core.current().hostCpu()).get()).isEqualTo(-1);
        }
    }

    @Test
    void aGivenPinnerIsUsedAndReleased() throws Exception {
        final java.util.concurrent.atomic.AtomicInteger released = new java.util.concurrent.atomic.AtomicInteger();
        final Pinner fake = () -> new Pinner.Pin() {
            @Override
            public int hostCpu() {
                return 0;
            }

            @Override
            public void release() {
                released.incrementAndGet();
            }
        };
        final Machine m = Machine.builder().cores(2).pinner(fake).build().start();
        assertThat(m.core(0).hostCpu()).isZero();
        assertThat(m.core(1).hostCpu()).isZero();
        m.close();
        assertThat(released.get()).isEqualTo(2);
    }
}
