package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.Ipi4jException;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Vector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@EndToEnd
@Timeout(60)
class LifecycleTest {
    static final Vector V = Vector.of(0x40);

    static Machine.Builder builder() {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE);
    }

    @Test
    void aCoreIsTheCurrentCoreOfItsOwnMachineOnly() throws Exception {
        try (Machine a = builder().build().start(); Machine b = builder().cores(4).build().start()) {
            b.interrupts().register(V, irq -> { });
            assertThat(a.currentCore()).as("an outside thread").isNull();
            final long outsideBefore = b.interrupts().externalSent();
            final Core[] seen = a.core(1).submit(() -> {
                b.interrupts().send(2, V, null); // b must count it as a send from outside its cores
                return new Core[] {Core.current(), a.currentCore(), b.currentCore()};
            }).get(10, TimeUnit.SECONDS);
            assertThat(seen[0]).isSameAs(a.core(1));
            assertThat(seen[1]).as("its own machine's current core").isSameAs(a.core(1));
            assertThat(seen[2]).as("core 1 of another machine, which has a core 1 too").isNull();
            assertThat(b.interrupts().externalSent() - outsideBefore).isEqualTo(1);
        }
    }

    @Test
    void closeDeliversWhatWasPendingAndRefusesWhatComesAfter() throws Exception {
        final Machine m = builder().build().start();
        final AtomicInteger handled = new AtomicInteger();
        m.interrupts().register(V, irq -> handled.addAndGet(irq.payloads().size()));
        final CountDownLatch busy = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        // Core 1 is busy in a task that takes no checkpoint, so payloads pile up unhandled.
        m.core(1).submit(() -> {
            busy.countDown();
            DeliveryTestSupport.await(release);
        });
        final CompletableFuture<String> queuedTask = new CompletableFuture<>();
        DeliveryTestSupport.await(busy);
        for (int i = 0; i < 100; i++) {
            m.interrupts().send(1, V, i);
        }
        m.core(1).submit(() -> queuedTask.complete("ran during drain"));
        final CompletableFuture<ShutdownReport> report = CompletableFuture.supplyAsync(() -> m.shutdown(Duration.ofSeconds(20)));
        while (!m.isClosed()) {
            Thread.onSpinWait();
        }
        assertThatThrownBy(() -> m.interrupts().send(1, V, "late")).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> m.core(0).submit(() -> { })).isInstanceOf(MachineClosedException.class);
        release.countDown();
        final ShutdownReport r = report.get(30, TimeUnit.SECONDS);
        assertThat(r.isClean()).as(r.toString()).isTrue();
        assertThat(handled.get()).isEqualTo(100);
        assertThat(queuedTask.get(1, TimeUnit.SECONDS)).isEqualTo("ran during drain");
        assertThat(m.core(1).state()).isEqualTo(Core.State.HALTED);
        assertThat(m.shutdown(Duration.ofSeconds(1))).isSameAs(r);
    }

    @Test
    void aMachineThatNeverStartedHandsEverythingBack() {
        final Machine m = builder().build();
        m.interrupts().register(V, irq -> { });
        m.interrupts().send(0, V, "a");
        m.interrupts().send(0, V, "b");
        m.interrupts().send(1, V, null);
        final CompletableFuture<Void> task = m.core(1).submit(() -> { });
        final ShutdownReport r = m.shutdown(Duration.ofSeconds(1));
        assertThat(r.isClean()).isFalse();
        assertThat(r.undelivered()).hasSize(2);
        assertThat(r.undelivered()).anySatisfy(u -> {
            assertThat(u.cpu()).isZero();
            assertThat(u.payloads()).containsExactly("a", "b");
        });
        assertThat(r.undelivered()).anySatisfy(u -> {
            assertThat(u.cpu()).isEqualTo(1);
            assertThat(u.payloads()).isEmpty();
        });
        assertThat(r.rejectedTasks()).isEqualTo(1);
        assertThatThrownBy(task::join).hasCauseInstanceOf(MachineClosedException.class);
        m.close(); // the report was handed back by shutdown(timeout): close() does not throw it again
        assertThat(m.shutdown(Duration.ofSeconds(1))).as("the report stays available").isSameAs(r);
    }

    /** close() throws an unclean report once, when it is the call that shut the machine down; then it is quiet. */
    @Test
    void closeThrowsAnUncleanReportOnceAndIsQuietAfterwards() {
        final Machine m = builder().build();
        m.interrupts().register(V, irq -> { });
        m.interrupts().send(0, V, "a");
        assertThatThrownBy(m::close).hasMessageContaining("cleanly")
            .isInstanceOfSatisfying(UncleanShutdownException.class, e -> {
                assertThat(e).isInstanceOf(Ipi4jException.class);
                assertThat(e.report().undelivered()).hasSize(1);
                assertThat(m.shutdown(Duration.ofSeconds(1))).isSameAs(e.report());
            });
        m.close();
    }

    @Test
    void aHandlerThatThrowsIsRecordedAndTheCoreCarriesOn() throws Exception {
        final CountDownLatch oopsSeen = new CountDownLatch(1);
        try (Machine m = builder().onOops(o -> oopsSeen.countDown()).build().start()) {
            final AtomicInteger good = new AtomicInteger();
            m.interrupts().register(V, irq -> {
                if (irq.payloads().contains("boom")) {
                    throw new IllegalStateException("handler bug");
                }
                good.addAndGet(irq.payloads().size());
            });
            m.interrupts().send(1, V, "boom");
            DeliveryTestSupport.await(oopsSeen);
            m.core(1).submit(() -> m.interrupts().send(1, V, "fine")).get(5, TimeUnit.SECONDS);
            m.core(1).submit(() -> Core.current().checkpoint()).get(5, TimeUnit.SECONDS);
            assertThat(good.get()).isEqualTo(1);
            assertThat(m.oopses()).singleElement().satisfies(o -> {
                assertThat(o.cpu()).isEqualTo(1);
                assertThat(o.vector()).isEqualTo(V);
                assertThat(o.error()).hasMessage("handler bug");
                assertThat(o.payloads()).containsExactly("boom");
            });
            assertThat(m.core(1).stats().oopses()).isEqualTo(1);
            assertThat(m.core(1).interruptsEnabled()).isTrue();
        }
    }

    @Test
    void haltMachinePolicyStopsEverythingAfterAFailingHandler() throws Exception {
        final Machine m = builder().faultPolicy(FaultPolicy.HALT_MACHINE).build().start();
        m.interrupts().register(V, irq -> {
            throw new RuntimeException("fatal");
        });
        m.interrupts().send(0, V, 1);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!m.isClosed() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(m.isClosed()).isTrue();
        assertThatThrownBy(() -> m.interrupts().send(1, V, 2)).isInstanceOf(MachineClosedException.class);
        assertThat(m.shutdown(Duration.ofSeconds(10)).isClean()).isTrue();
        assertThat(m.oopses()).hasSize(1);
    }

    @Test
    void aHandlerThatNeverReturnsIsReportedAsStuckWithItsStack() throws Exception {
        final Machine m = builder().build().start();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch never = new CountDownLatch(1);
        m.interrupts().register(V, irq -> {
            entered.countDown();
            never.await();
        });
        m.interrupts().send(1, V, null);
        DeliveryTestSupport.await(entered);
        assertThat(m.core(1).inServiceVector()).isEqualTo(V.number());
        assertThat(m.core(1).interruptsEnabled()).isFalse();
        final ShutdownReport r = m.shutdown(Duration.ofMillis(300));
        assertThat(r.stuckCores()).singleElement().satisfies(s -> assertThat(s)
            .contains("core 1").contains("in handler for 0x40").contains("CountDownLatch.await"));
        never.countDown();
    }

    @Test
    void tasksReturnResultsAndFailuresThroughTheirFutures() throws Exception {
        try (Machine m = builder().build().start()) {
            assertThat(m.core(0).submit(() -> Core.current().id()).get(5, TimeUnit.SECONDS)).isZero();
            assertThat(m.core(1).submit(() -> Core.current().id()).get(5, TimeUnit.SECONDS)).isEqualTo(1);
            assertThatThrownBy(() -> m.core(0).submit(() -> {
                throw new IllegalArgumentException("task bug");
            }).get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).hasRootCauseMessage("task bug");
            // A task that leaves interrupts off is repaired and reported.
            m.core(0).submit(() -> {
                Core.current().disableInterrupts();
            }).get(5, TimeUnit.SECONDS);
            assertThat(m.oopses()).anySatisfy(o -> assertThat(o.what()).contains("interrupts disabled"));
            assertThat(m.core(0).submit(() -> Core.current().interruptsEnabled()).get(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void pinningIsReportedPerCore() throws Exception {
        try (Machine m = Machine.builder().cores(3).pinning(Pinning.BEST_EFFORT).build().start()) {
            for (final Core c : m.cores()) {
                assertThat(c.hostCpu()).isGreaterThanOrEqualTo(-1); // host CPU numbers need not be < availableProcessors
            }
            // Two cores can never hold the same host CPU.
            assertThat(m.cores().stream().mapToInt(Core::hostCpu).filter(c -> c >= 0).distinct().count())
                .isEqualTo(m.cores().stream().filter(c -> c.hostCpu() >= 0).count());
        }
        try (Machine m = builder().build().start()) {
            assertThat(m.cores()).allSatisfy(c -> assertThat(c.hostCpu()).isEqualTo(-1));
        }
    }
}
