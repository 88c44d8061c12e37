package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Program;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.Scheduler;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Regressions for contracts that had gaps: futures that never completed, overruns, bare errors. */
@EndToEnd
@Timeout(60)
class FailureContractsTest {
    static final Vector V = Vector.of(0x40);

    private static Machine.Builder builder() {
        return Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE);
    }

    @Test
    void schedulerFuturesFailWhenTheMachineShutsDownBeforeTheyRun() {
        final Machine m = builder().build(); // never started: nothing can run
        final Scheduler s = Scheduler.on(m);
        final AtomicInteger ran = new AtomicInteger();
        final CompletableFuture<Void> f0 = s.submit(0, ran::incrementAndGet);
        final CompletableFuture<Void> f1 = s.submit(0, ran::incrementAndGet);
        m.shutdown(Duration.ofSeconds(1));
        for (final CompletableFuture<Void> f : List.of(f0, f1)) {
            assertThat(f).isCompletedExceptionally();
            assertThatThrownBy(f::join).hasCauseInstanceOf(MachineClosedException.class);
        }
        assertThat(ran.get()).isZero();
    }

    @Test
    void schedulerSubmitAfterShutdownAlwaysThrowsAndQueuesNothing() {
        final Machine m = builder().build().start();
        final Scheduler s = Scheduler.on(m);
        s.submit(0, () -> { }).join();
        m.shutdown(Duration.ofSeconds(5));
        for (int i = 0; i < 3; i++) {
            final int cpu = i % 2;
            assertThatThrownBy(() -> s.submit(cpu, () -> { })).isInstanceOf(MachineClosedException.class);
        }
    }

    /**
     * Submitters race a shutdown: every accepted task runs exactly once or fails with
     * MachineClosedException without running; every refused task never runs; every future
     * completes by the time shutdown returns.
     */
    @RepeatedTest(20)
    void schedulerSubmitsRacingShutdownLoseNothingAndRunNothingRefused() throws Exception {
        final Machine m = builder().build().start();
        final Scheduler s = Scheduler.on(m);
        final int perThread = 2_000;
        final int threads = 2;
        final AtomicIntegerArray runs = new AtomicIntegerArray(threads * perThread);
        final List<List<CompletableFuture<Void>>> accepted = new ArrayList<>();
        final List<List<Integer>> acceptedIds = new ArrayList<>();
        final List<List<Integer>> refusedIds = new ArrayList<>();
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> submitters = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            final List<CompletableFuture<Void>> fs = new ArrayList<>();
            final List<Integer> ids = new ArrayList<>();
            final List<Integer> refused = new ArrayList<>();
            accepted.add(fs);
            acceptedIds.add(ids);
            refusedIds.add(refused);
            final int base = t * perThread;
            final Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    final int id = base + i;
                    try {
                        fs.add(s.submit(id % 2, () -> runs.incrementAndGet(id)));
                        ids.add(id);
                    } catch (MachineClosedException e) {
                        refused.add(id);
                    }
                }
            });
            submitters.add(th);
            th.start();
        }
        go.countDown();
        m.shutdown(Duration.ofSeconds(10));
        for (final Thread th : submitters) {
            th.join(10_000);
        }
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < accepted.get(t).size(); i++) {
                final CompletableFuture<Void> f = accepted.get(t).get(i);
                final int id = acceptedIds.get(t).get(i);
                try {
                    f.get(5, TimeUnit.SECONDS); // completes: never left pending
                    assertThat(runs.get(id)).as("task %d completed normally", id).isEqualTo(1);
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(MachineClosedException.class);
                    assertThat(runs.get(id)).as("task %d failed", id).isZero();
                }
            }
            for (final int id : refusedIds.get(t)) {
                assertThat(runs.get(id)).as("refused task %d", id).isZero();
            }
            assertThat(accepted.get(t).size() + refusedIds.get(t).size()).isEqualTo(perThread);
        }
    }

    @Test
    void aSenderBlockedOnAFullMailboxDoesNotHoldShutdownPastItsTimeout() throws Exception {
        final Machine m = builder().mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK)
            .blockTimeout(Duration.ofSeconds(8)).build().start();
        m.interrupts().register(V, irq -> { });
        final var deaf = DeliveryTestSupport.holdInterruptsOff(m.core(1));
        final CompletableFuture<Throwable> sender = CompletableFuture.supplyAsync(() -> {
            try {
                for (int i = 0; i < 10; i++) {
                    m.interrupts().send(1, V, i); // the third blocks: core 1 does not drain
                }
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        final long start = System.nanoTime();
        final ShutdownReport report = m.shutdown(Duration.ofMillis(300));
        final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        deaf.close();
        // The bug held shutdown for the whole 8 s block timeout; anything near that fails here.
        assertThat(tookMillis).as("shutdown(300 ms) took %d ms", tookMillis).isLessThan(4_000);
        assertThat(report.stuckCores()).hasSize(1);
        assertThat(sender.get(10, TimeUnit.SECONDS)).isInstanceOf(MachineClosedException.class);
    }

    /** A core stuck in a task: what waits behind it fails when shutdown returns, it does not hang. */
    @Test
    void futuresQueuedOnAStuckCoreCompleteWhenShutdownReturns() throws Exception {
        final Machine m = builder().build().start();
        final SmpCall smp = SmpCall.install(m);
        final Scheduler scheduler = Scheduler.on(m);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        m.core(1).submit(() -> {
            stuck.countDown();
            release.await(30, TimeUnit.SECONDS); // a task that does not return in time
            return null;
        });
        DeliveryTestSupport.await(stuck);
        final AtomicInteger ran = new AtomicInteger();
        final CompletableFuture<Object> task = m.core(1).submit(() -> ran.incrementAndGet());
        final CompletableFuture<Void> job = scheduler.submit(1, ran::incrementAndGet);
        final CallCompletion<Integer> call = smp.callAsync(1, cpu -> ran.incrementAndGet());
        final long start = System.nanoTime();
        final ShutdownReport report = m.shutdown(Duration.ofMillis(200));
        final long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // The deadline is honoured: the timeout plus collecting what is left (a margin for this
        // noisy 2-CPU host, where a loaded run was seen near 450 ms; the overrun is usually a few ms).
        assertThat(tookMillis).as("shutdown(200 ms) took %d ms", tookMillis).isLessThan(200 + 1_000);
        assertThat(report.stuckCores()).hasSize(1);
        for (final CompletableFuture<?> f : List.of(task, job, call)) {
            assertThat(f).isCompletedExceptionally();
            final Throwable why = f.handle((v, e) -> e).join();
            if (why instanceof org.ipi4j.smp.SmpCallException sce) {
                assertThat(sce.failures().values()).allMatch(x -> x instanceof MachineClosedException);
            } else {
                assertThat(why).isInstanceOf(MachineClosedException.class);
            }
        }
        release.countDown(); // the core comes back: none of the failed work runs
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (m.core(1).state() != Core.State.HALTED) {
            assertThat(System.nanoTime() - deadline).as("core 1 halts once released").isNegative();
            Thread.onSpinWait();
        }
        assertThat(ran.get()).isZero();
    }

    @Test
    void nullsAndRangesAreExplainedByName() {
        assertThatThrownBy(() -> Machine.builder().blockTimeout(null))
            .isInstanceOf(NullPointerException.class).hasMessage("timeout");
        assertThatThrownBy(() -> Program.builder().sendIpi(0, 300, 0).build())
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vector 300");
        assertThatThrownBy(() -> Program.builder().sendIpi(0, 13, 0))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vector 13");
        try (Machine m = builder().memoryWords(64 * 8).build().start()) {
            assertThatThrownBy(() -> m.interrupts().onException(null, f -> null))
                .isInstanceOf(NullPointerException.class).hasMessage("vector");
            assertThatThrownBy(() -> m.interrupts().isRegistered(null))
                .isInstanceOf(NullPointerException.class).hasMessage("vector");
            assertThatThrownBy(() -> SmpCall.install(m, null, Broadcast.flat()))
                .isInstanceOf(NullPointerException.class).hasMessage("watchdog");
            final SmpCall smp = SmpCall.install(m);
            assertThatThrownBy(() -> Mmu.builder(smp).batchWindow(null))
                .isInstanceOf(NullPointerException.class).hasMessage("window");
            final AddressSpace as = Mmu.builder(smp).pageWords(64).build().newAddressSpace(4);
            assertThatThrownBy(() -> as.pte(99))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[99, 100)").hasMessageContaining("4 pages");
        }
    }

    @Test
    void anAccessOutsidePhysicalMemoryIsAPreciseGeneralProtectionFault() throws Exception {
        try (Machine m = builder().memoryWords(16).build().start()) {
            final Program p = Program.builder().set(0, 7).store(3, 0).load(1, 16).build();
            assertThatThrownBy(() -> m.core(0).execute(p, Mode.KERNEL).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause()
                .isInstanceOfSatisfying(GeneralProtectionException.class, gp -> {
                    assertThat(gp.epc()).isEqualTo(2);
                    assertThat(gp.getMessage()).contains("physical address 16").contains("16 words");
                });
            assertThat(m.memory().load(3)).isEqualTo(7); // the instructions before it completed
        }
    }

    @Test
    void crossCallsAfterShutdownThrowMachineClosedException() {
        final Machine m = builder().build().start();
        final SmpCall smp = SmpCall.install(m);
        m.shutdown(Duration.ofSeconds(5));
        assertThatThrownBy(() -> smp.call(1, cpu -> cpu)).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> smp.run(1, cpu -> { })).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> smp.call(1, cpu -> cpu)).isInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> smp.onEachCoreAsync(cpu -> { })).isInstanceOf(MachineClosedException.class);
    }

    @Test
    void aHandlerThatFailsForeverKeepsABoundedLogAndCountsByKind() throws Exception {
        try (Machine m = builder().oopsCapacity(10).build().start()) {
            m.interrupts().register(V, irq -> {
                throw new IllegalStateException("always");
            });
            for (int i = 0; i < 300; i++) {
                final long before = m.oopsRecorded();
                m.interrupts().send(1, V, i);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (m.oopsRecorded() == before) {
                    assertThat(System.nanoTime() - deadline).as("oops %d recorded in time", i).isNegative();
                    Thread.onSpinWait();
                }
            }
            assertThat(m.oopsRecorded()).isEqualTo(300);
            assertThat(m.oopses()).hasSize(10);
            assertThat(m.oopses().get(0).payloads()).containsExactly(0);
            assertThat(m.distinctOopses()).singleElement().satisfies(d -> {
                assertThat(d.count()).isEqualTo(300);
                assertThat(d.first().error()).hasMessage("always");
            });
            assertThat(m.core(1).stats().oopses()).isEqualTo(300);
        }
    }

    @Test
    void futuresHandedOutCannotBeCompletedByTheCaller() throws Exception {
        try (Machine m = builder().build().start()) {
            final SmpCall smp = SmpCall.install(m);
            final CountDownLatch release = new CountDownLatch(1);
            final CallCompletion<Integer> call = smp.callAsync(1, cpu -> {
                release.await(10, TimeUnit.SECONDS);
                return 7;
            });
            assertThatThrownBy(() -> call.complete(42)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> call.completeExceptionally(new RuntimeException()))
                .isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> call.obtrudeValue(1)).isInstanceOf(UnsupportedOperationException.class);
            assertThatThrownBy(() -> call.orTimeout(1, TimeUnit.MILLISECONDS)).isInstanceOf(UnsupportedOperationException.class);
            assertThat(call.cancel(true)).isFalse();
            final CompletableFuture<Integer> plusOne = call.thenApply(x -> x + 1);
            assertThat(plusOne.complete(100)).as("a dependent stage belongs to the caller").isTrue();
            release.countDown();
            assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo(7);

            final CompletableFuture<Integer> task = m.core(0).submit(() -> 5);
            assertThatThrownBy(() -> task.complete(1)).isInstanceOf(UnsupportedOperationException.class);
            assertThat(task.get(10, TimeUnit.SECONDS)).isEqualTo(5);
            final CompletableFuture<Void> job = Scheduler.on(m).submit(0, () -> { });
            assertThatThrownBy(() -> job.complete(null)).isInstanceOf(UnsupportedOperationException.class);
            job.get(10, TimeUnit.SECONDS);
        }
    }
}
