package org.ipi4j.smp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.Core;
import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * "A request on core A needs core B": {@code callAsync(b, read).thenApplyOn(a, reply)} runs the
 * reply on core a without blocking any core, and its future completes in every case.
 */
@Timeout(60)
class ContinuationTest {
    @Test
    void theContinuationRunsOnTheChosenCoreWithTheResult() throws Exception {
        try (Machine m = SmpCallTest.machine(3)) {
            final SmpCall smp = SmpCall.install(m);
            final CallCompletion<String> reply = smp.callAsync(2, cpu -> 21)
                .thenApplyOn(1, v -> (v * 2) + " on core " + Core.current().id());
            assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("42 on core 1");
            assertThat(reply.targets()).isEqualTo(CpuSet.of(1));
            // From a core's own task: the request on core 0 needs core 2, and answers on core 0.
            final String fromCore = m.core(0).submit(() -> smp.callAsync(2, cpu -> cpu)
                .thenApplyOn(0, v -> v + "@" + Core.current().id())).get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
            assertThat(fromCore).isEqualTo("2@0");
        }
    }

    @Test
    void itCompletesWhenTheContinuationThrowsOrTheSourceFailed() throws Exception {
        try (Machine m = SmpCallTest.machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            final CallCompletion<Object> threw = smp.callAsync(1, cpu -> cpu).thenApplyOn(0, v -> {
                throw new IllegalStateException("bad reply");
            });
            assertThat(catchThrowable(() -> threw.get(10, TimeUnit.SECONDS))).cause()
                .isInstanceOf(SmpCallException.class).hasRootCauseMessage("bad reply");
            final AtomicInteger ranReply = new AtomicInteger();
            final CallCompletion<Integer> failed = smp.<Integer>callAsync(1, cpu -> {
                throw new IllegalArgumentException("bad read");
            }).thenApplyOn(0, v -> ranReply.incrementAndGet());
            assertThat(catchThrowable(() -> failed.get(10, TimeUnit.SECONDS))).cause()
                .isInstanceOf(SmpCallException.class).hasRootCauseMessage("bad read");
            assertThat(ranReply.get()).as("a failed source never runs the continuation").isZero();
            assertThatThrownBy(() -> smp.callAsync(1, cpu -> cpu).thenApplyOn(5, v -> v))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("core 5");
        }
    }

    @Test
    void itCompletesWhenTheMachineClosesAndCanBeCancelledBeforeItsCallIsMade() throws Exception {
        final Machine m = SmpCallTest.machine(2);
        final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat());
        final AtomicInteger ranReply = new AtomicInteger();
        final IrqOffHold deaf = holdInterruptsOff(m.core(1));
        final CallCompletion<Integer> cancelled = smp.callAsync(1, cpu -> cpu).thenApplyOn(0, v -> ranReply.incrementAndGet());
        assertThat(cancelled.cancel()).isEqualTo(CpuSet.of(0));
        assertThat(catchThrowable(() -> cancelled.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(CallCancelledException.class);
        final CallCompletion<Integer> closing = smp.callAsync(1, cpu -> cpu).thenApplyOn(0, v -> ranReply.incrementAndGet());
        m.shutdown(Duration.ofMillis(200));
        deaf.release();
        assertThat(catchThrowable(() -> closing.get(10, TimeUnit.SECONDS))).cause().isInstanceOf(MachineClosedException.class);
        assertThat(ranReply.get()).isZero();
    }
}
