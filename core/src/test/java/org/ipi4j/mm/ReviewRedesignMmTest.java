package org.ipi4j.mm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.DeliveryTestSupport;
import org.ipi4j.EndToEnd;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review of the per-core redesign, mm side: broadcast invalidation's bracket where it meets interrupts. */
@EndToEnd
@Timeout(60)
class ReviewRedesignMmTest {
    static final int PAGE = ShootdownTest.PAGE;

    /**
     * A core is inside an access of a global space (translated, not yet ended) and takes an
     * interrupt at a checkpoint; the handler reads through the MMU, a bracket of its own, and
     * ends it. Before the fix the handler's endAccess closed the interrupted code's bracket too
     * (brackets did not nest): a broadcast shootdown then returned at once while the interrupted
     * access, holding a translation with the revoked write right, was still to come.
     */
    @Test
    void aHandlersTranslationDoesNotCloseTheBracketOfTheCodeItInterrupted() throws Exception {
        final Duration watchdog = Duration.ofMillis(100);
        final ShootdownTest.Rig r = ShootdownTest.rig(2, watchdog, Broadcast.flat());
        try {
            final Mmu mmu = Mmu.builder(r.smp()).pageWords(PAGE).broadcastInvalidation(2).build();
            final AddressSpace as = ShootdownTest.globalSpace(r, mmu);
            final Vector v = Vector.of(0x40);
            final CountDownLatch handled = new CountDownLatch(1);
            r.machine().interrupts().register(v, irq -> {
                mmu.read(as, PAGE); // page 1: its own bracket, opened and ended in the handler
                handled.countDown();
            });
            final AddressTranslation translation = mmu.translation(as);
            final CountDownLatch inside = new CountDownLatch(1);
            final CountDownLatch sent = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final CompletableFuture<Void> access = r.machine().core(1).submit(() -> {
                translation.translate(1, 0, 0, true); // a write to page 0: the bracket is open
                inside.countDown();
                DeliveryTestSupport.await(sent);
                Core.current().checkpoint(); // takes the interrupt, inside the access
                DeliveryTestSupport.await(release);
                translation.endAccess(1); // the store would be here
            });
            DeliveryTestSupport.await(inside);
            r.machine().interrupts().send(1, v, null);
            sent.countDown();
            DeliveryTestSupport.await(handled);
            final Throwable t = catchThrowable(() -> as.protect(0, 1, Pte.READ));
            release.countDown();
            access.get(10, TimeUnit.SECONDS);
            assertThat(t).as("TLBSYNC must still wait for core 1's access: its bracket is open")
                .isInstanceOf(CallTimeoutException.class);
            assertThat(((CallTimeoutException) t).cpus()).isEqualTo(CpuSet.of(1));
        } finally {
            r.close();
        }
    }
}
