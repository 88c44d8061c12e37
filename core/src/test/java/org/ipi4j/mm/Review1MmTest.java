package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.ipi4j.DeliveryTestSupport.holdInterruptsOff;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.ipi4j.DeliveryTestSupport.IrqOffHold;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.ServiceGroup;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 1 probe: an MMU built from a view with a 1 ms deadline (and a service group) still
 * shoots down on the layer's terms: a protect while a core that has the page in its TLB is deaf
 * does not throw at the deadline and does not return while that core could still write.
 */
@Timeout(60)
class Review1MmTest {
    static final int PAGE = 64;

    @Test
    void anMmuBuiltFromADeadlineViewStillWaitsForEveryCore() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
            .memoryWords(64 * PAGE).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), Broadcast.flat());
            final SmpCall view = smp.withDeadline(Duration.ofMillis(1)).inGroup(ServiceGroup.of("g", 1, OverflowPolicy.FAIL));
            final Mmu mmu = Mmu.builder(view).pageWords(PAGE).batchWindow(Duration.ofMinutes(1)).detectStale(true).build();
            final AddressSpace as = mmu.newAddressSpace(8);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            m.core(1).submit(() -> {
                mmu.switchTo(as);
                return mmu.read(as, 0);
            }).get(10, TimeUnit.SECONDS);
            final IrqOffHold deaf = holdInterruptsOff(m.core(1));
            final CompletableFuture<Throwable> protect = CompletableFuture.supplyAsync(
                () -> catchThrowable(() -> as.protect(0, 1, Pte.READ)));
            final Throwable early = catchThrowable(() -> protect.get(300, TimeUnit.MILLISECONDS));
            deaf.close();
            assertThat(protect.get(20, TimeUnit.SECONDS)).as("the shootdown waited for core 1 and succeeded").isNull();
            assertThat(early).as("it did not return while core 1 could still write").isInstanceOf(TimeoutException.class);
        }
    }
}
