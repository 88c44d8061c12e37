package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.interrupts.CpuSet;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class RoutingTableTest {
    @RepeatedTest(3)
    void noCoreReadsAnOldRouteOrAFreedSlotAfterAnUpdateReturns() {
        final RoutingTable.Outcome o = RoutingTable.run(4, 300);
        assertThat(o.lookups()).isPositive();
        assertThat(o.sawFreedSlot()).isZero();
        assertThat(o.staleAfterReturn()).isZero();
    }

    /**
     * The promise itself, without a race to win: core 1 is held between the two halves of a
     * lookup (it takes no call there), and an update of that route starts. The update may not
     * return, and so may not free the old slot, before core 1 has read it: core 1 is released
     * once the updater waits (or has returned, which would be the bug), and must read the old
     * hop, never a freed slot.
     */
    @RepeatedTest(3)
    void anUpdateWaitsForACoreInTheMiddleOfALookup() throws Exception {
        try (RoutingTable table = new RoutingTable(2)) {
            final CountDownLatch between = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final CompletableFuture<Long> lookup = table.machine().core(1).submit(() -> {
                final int slot = table.cachedSlot(3);
                between.countDown();
                release.await(); // no boundary here: core 1 takes no call until it has read the slot
                return table.slot(slot);
            });
            assertThat(between.await(10, TimeUnit.SECONDS)).isTrue();
            final Thread updater = new Thread(() -> table.update(3, 5000), "updater");
            updater.start();
            while (!Set.of(Thread.State.WAITING, Thread.State.TIMED_WAITING, Thread.State.TERMINATED)
                    .contains(updater.getState())) {
                Thread.onSpinWait(); // until it waits for core 1's answer (or returned without it)
            }
            release.countDown();
            assertThat(lookup.get(10, TimeUnit.SECONDS)).as("core 1's lookup in flight during the update").isEqualTo(1003);
            updater.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(updater.isAlive()).isFalse();
            assertThat(table.machine().core(1).submit(() -> table.lookup(3)).get(10, TimeUnit.SECONDS)).isEqualTo(5000);
        }
    }

    /**
     * An update with a deadline while core 1 takes no calls (interrupts off): it returns within
     * the deadline, says only core 0 switched, and core 1, which never ran the switch, reads the
     * old next hop, still there (its slot retired, not freed). The next full update reaches both
     * cores and frees what was retired.
     */
    @RepeatedTest(3)
    void anUpdateThatMissesItsDeadlineLeavesTheLateCoreOnTheOldHopNeverAFreedSlot() throws Exception {
        try (RoutingTable table = new RoutingTable(2)) {
            final CountDownLatch deaf = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final CompletableFuture<Long> late = table.machine().core(1).submit(() -> {
                final Core c = Core.current();
                final boolean flags = c.disableInterrupts();
                try {
                    deaf.countDown();
                    release.await(); // takes no call until released
                } finally {
                    c.restoreInterrupts(flags); // the cancelled switch is never run here
                }
                return table.lookup(5);
            });
            assertThat(deaf.await(10, TimeUnit.SECONDS)).isTrue();
            final long start = System.nanoTime();
            final CpuSet switched = table.update(5, 7000, Duration.ofMillis(100));
            final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(switched).isEqualTo(CpuSet.of(0));
            assertThat(tookMillis).as("it returned at its deadline, not the watchdog's 10 s").isLessThan(5_000);
            assertThat(table.machine().core(0).submit(() -> table.lookup(5)).get(10, TimeUnit.SECONDS)).isEqualTo(7000);
            release.countDown();
            assertThat(late.get(10, TimeUnit.SECONDS)).as("the late core reads the old hop, never FREED").isEqualTo(1005);
            table.update(5, 7001); // reaches every core: what was retired is freed
            assertThat(table.machine().core(1).submit(() -> table.lookup(5)).get(10, TimeUnit.SECONDS)).isEqualTo(7001);
        }
    }
}
