package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.shard.KeyRouter;
import org.ipi4j.shard.Sharded;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review 2: where {@code Sharded}, per-core timers, stall detection and shutdown meet each other
 * and the existing protocols. Eight of these tests (listed in the CHANGELOG's entry for review 2)
 * failed on the code they were written against, for the reason their comment states, and now
 * guard the fixes; the others are probes that held.
 */
@Timeout(60)
class Review2Test {
    private static Machine parked(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start();
    }

    /** A per-core service that records its closing. */
    static final class Closing implements AutoCloseable {
        final int cpu;
        final List<Integer> closed;

        Closing(final int cpu, final List<Integer> closed) {
            this.cpu = cpu;
            this.closed = closed;
        }

        @Override
        public void close() {
            closed.add(cpu);
        }
    }

    // ---- Sharded -----------------------------------------------------------------------------

    /**
     * Finding: {@code Sharded.close()} flips {@code closed} before its waited {@code onEachCore},
     * so a close that is refused (here: called from inside a Sharded function, interrupt context,
     * a deadlock hazard) leaves the object marked closed with no instance closed. Every later
     * {@code close()} returns quietly, shutdown's hook skips it, and the instances are never
     * closed ("refuse before any side effect").
     */
    @Test
    void aCloseRefusedInsideAFunctionLeavesTheInstancesOpenForever() throws Exception {
        final List<Integer> closed = new CopyOnWriteArrayList<>();
        final Machine m = parked(2);
        try {
            final SmpCall smp = SmpCall.install(m);
            final Sharded<Closing> shards = Sharded.start(smp, cpu -> new Closing(cpu, closed));
            final AtomicReference<RuntimeException> refused = new AtomicReference<>();
            shards.invokeOn(1, s -> {
                try {
                    shards.close(); // in interrupt context: waiting for the cores is a hazard
                } catch (RuntimeException e) {
                    refused.set(e);
                }
                return null;
            });
            assertThat(refused.get()).as("close() inside a function is refused").isInstanceOf(IllegalStateException.class);
            assertThat(shards.isClosed()).as("a refused close() must leave it open").isFalse();
            shards.close(); // a proper close, from an outside thread
            assertThat(closed).as("instances closed by the outside close()").containsExactlyInAnyOrder(0, 1);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        assertThat(closed).as("instances closed by the close() or by shutdown").containsExactlyInAnyOrder(0, 1);
    }

    /**
     * Finding: shutdown's closing of a {@code Sharded} is not bounded by the shutdown's timeout
     * when its layer has bounded queues with {@link OverflowPolicy#BLOCK}: {@code stopAtShutdown}'s
     * {@code onEachCoreAsync} waits for room on a full, stuck core for one watchdog period
     * (CallInitiator.roomBy) before its timed {@code get} even starts.
     */
    @Test
    void shutdownClosingAShardedOnAFullStuckCoreStaysWithinItsTimeout() throws Exception {
        final Machine m = parked(2);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        try {
            final SmpCall smp = SmpCall.builder(m).watchdog(Duration.ofSeconds(6))
                .queueCapacity(1, OverflowPolicy.BLOCK).install();
            final Sharded<Closing> shards = Sharded.start(smp, cpu -> new Closing(cpu, new CopyOnWriteArrayList<>()));
            m.core(1).submit(() -> {
                stuck.countDown();
                release.await(); // takes no interrupts: core 1 is stuck
                return null;
            });
            assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
            final CallCompletion<Object> full = shards.invokeOnAsync(1, s -> null); // core 1's one slot
            final long t0 = System.nanoTime();
            m.shutdown(Duration.ofMillis(300));
            final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(ms).as("shutdown(300 ms) returned after %d ms", ms).isLessThan(3_000);
            assertThat(full).isDone();
        } finally {
            release.countDown();
        }
    }

    /** Probe (held): a factory that fails on one core closes what the others made, and start throws. */
    @RepeatedTest(3)
    void aFactoryFailingOnOneCoreClosesTheOthers() {
        final List<Integer> closed = new CopyOnWriteArrayList<>();
        try (Machine m = parked(3)) {
            final SmpCall smp = SmpCall.install(m);
            assertThatThrownBy(() -> Sharded.start(smp, cpu -> {
                if (cpu == 1) {
                    throw new IllegalStateException("no shard on 1");
                }
                return new Closing(cpu, closed);
            })).hasStackTraceContaining("no shard on 1");
            assertThat(closed).containsExactlyInAnyOrder(0, 2);
        }
    }

    /** Probe (held): nested invokeOn from inside a function to another core is refused, to its own core runs locally. */
    @Test
    void nestedInvokeOnIsRefusedRemoteAndRunsLocally() {
        try (Machine m = parked(2)) {
            final SmpCall smp = SmpCall.install(m);
            final Sharded<int[]> shards = Sharded.start(smp, cpu -> new int[] {cpu});
            final AtomicReference<Throwable> remote = new AtomicReference<>();
            final Integer local = shards.<Integer>invokeOn(1, s -> {
                try {
                    shards.invokeOn(0, t -> t[0]);
                } catch (RuntimeException e) {
                    remote.set(e);
                }
                return shards.invokeOn(1, t -> t[0] + 10);
            });
            assertThat(remote.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("deadlock hazard");
            assertThat(local).isEqualTo(11);
            assertThat(shards.<Integer>invokeOn(1, t -> t[0])).isEqualTo(1); // the reusable invocation still works
        }
    }

    /** Probe (held): a deadline view that times out abandons the invocation; the late run does not spoil the next call. */
    @RepeatedTest(3)
    void aTimedOutInvokeOnDoesNotLeakItsFunctionIntoTheNextCall() throws Exception {
        final Machine m = parked(2);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        try {
            final SmpCall smp = SmpCall.install(m).withDeadline(Duration.ofMillis(100));
            final Sharded<int[]> shards = Sharded.start(smp, cpu -> new int[] {cpu});
            final CompletableFuture<Void> task = m.core(1).submit(() -> {
                stuck.countDown();
                release.await();
                return null;
            });
            assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> shards.invokeOn(1, s -> s[0] += 100)).isNotNull();
            release.countDown();
            task.get(10, TimeUnit.SECONDS);
            // the late call ran once (100 added); the next call runs its own function only
            final int now = shards.<Integer>invokeOn(1, s -> s[0]);
            assertThat(now).isIn(1, 101);
            assertThat(shards.<Integer>invokeOn(1, s -> s[0] += 1)).isEqualTo(now + 1);
        } finally {
            release.countDown();
            m.shutdown(Duration.ofSeconds(5));
        }
    }

    /** Probe (held): KeyRouter stays in range for extreme keys, and Sharded works on one core. */
    @Test
    void routerExtremesAndOneCore() {
        for (final int n : new int[] {1, 2, 3, 7, Integer.MAX_VALUE}) {
            final KeyRouter r = new KeyRouter(n);
            for (final long k : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, -1, 0, Integer.MIN_VALUE}) {
                assertThat(r.route(k)).isBetween(0, n - 1);
                assertThat(r.route((Object) k)).isBetween(0, n - 1);
            }
        }
        final List<Integer> closed = new CopyOnWriteArrayList<>();
        try (Machine m = parked(1)) {
            final Sharded<Closing> shards = Sharded.start(SmpCall.install(m), cpu -> new Closing(cpu, closed));
            assertThat(shards.mapReduce(s -> s.cpu + 1, 0, Integer::sum)).isEqualTo(1);
        }
        assertThat(closed).containsExactly(0);
    }

    // ---- timers ------------------------------------------------------------------------------

    /**
     * Finding: a periodic timer whose run never returns (its core stuck in the timer's own task)
     * is RUNNING and out of the heap, so shutdown's {@code TimerQueue.closeAll} does not see it:
     * its future never completes, though {@code cancel()} may stop a running periodic timer and
     * the Javadoc promises {@link MachineClosedException} at shutdown.
     */
    @Test
    void aPeriodicTimerStuckInItsRunAtShutdownStillCompletes() throws Exception {
        final Machine m = parked(2);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch running = new CountDownLatch(1);
        try {
            final CoreTimer t = m.core(1).schedulePeriodic(Duration.ZERO, Duration.ofMillis(1), () -> {
                running.countDown();
                try {
                    release.await(); // core 1 is stuck in this run
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(m.shutdown(Duration.ofMillis(200)).stuckCores()).hasSize(1);
            assertThatThrownBy(() -> t.get(1, TimeUnit.SECONDS))
                .as("the periodic timer's future when shutdown returned").isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(MachineClosedException.class);
        } finally {
            release.countDown();
        }
    }

    /** Probe (held): timers scheduled from a cross-core call's function, from a handler's core onto another, and from another core's timer all run. */
    @RepeatedTest(5)
    void timersScheduledFromFunctionsAndTimersRun() throws Exception {
        try (Machine m = parked(3)) {
            final SmpCall smp = SmpCall.install(m);
            final CountDownLatch ran = new CountDownLatch(3);
            smp.call(1, cpu -> m.core(1).schedule(Duration.ZERO, ran::countDown)); // own core, in interrupt context
            smp.call(1, cpu -> m.core(2).schedule(Duration.ofMillis(1), ran::countDown)); // another, parked core
            m.core(0).schedule(Duration.ZERO, () -> m.core(2).schedule(Duration.ZERO, ran::countDown));
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Probe (held): a periodic timer that cancels itself runs no more and says cancelled; one that throws stops. */
    @Test
    void aPeriodicTimerThatCancelsItselfOrThrowsStops() throws Exception {
        try (Machine m = parked(1)) {
            final AtomicReference<CoreTimer> self = new AtomicReference<>();
            final CountDownLatch set = new CountDownLatch(1);
            final int[] runs = new int[1];
            self.set(m.core(0).schedulePeriodic(Duration.ofMillis(1), Duration.ofMillis(1), () -> {
                try {
                    set.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                runs[0]++;
                assertThat(self.get().cancel()).isTrue();
            }));
            set.countDown();
            assertThatThrownBy(() -> self.get().get(10, TimeUnit.SECONDS))
                .isInstanceOf(java.util.concurrent.CancellationException.class);
            assertThat(m.core(0).submit(() -> runs[0]).get(10, TimeUnit.SECONDS)).isEqualTo(1);
            final CoreTimer boom = m.core(0).schedulePeriodic(Duration.ZERO, Duration.ofMillis(1), () -> {
                throw new IllegalStateException("boom");
            });
            assertThatThrownBy(() -> boom.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
        }
    }

    /** Probe (held): huge delays and periods saturate; scheduling after close is refused with MachineClosedException. */
    @Test
    void hugeDelaysSaturateAndScheduleAfterCloseIsRefused() throws Exception {
        final Machine m = parked(1);
        final CoreTimer far = m.core(0).schedule(Duration.ofDays(1_000_000), () -> { });
        final CoreTimer every = m.core(0).schedulePeriodic(Duration.ofDays(1_000_000), Duration.ofDays(1_000_000), () -> { });
        final CountDownLatch soon = new CountDownLatch(1);
        m.core(0).schedule(Duration.ofMillis(1), soon::countDown); // the far ones must not hide it
        assertThat(soon.await(10, TimeUnit.SECONDS)).isTrue();
        m.shutdown(Duration.ofSeconds(5));
        assertThatThrownBy(() -> far.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> every.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
        assertThatThrownBy(() -> m.core(0).schedule(Duration.ZERO, () -> { })).isInstanceOf(MachineClosedException.class);
    }

    // ---- stall detection ---------------------------------------------------------------------

    /**
     * Finding: {@code stallThreshold} accepts any duration of at least 1 ms, but the machine turns
     * it into nanoseconds with {@code Duration.toNanos()} (Machine.java:116), so a long one (here
     * a million days, as one might write for "practically never") makes {@code build()} throw an
     * {@link ArithmeticException} with no word of the setting, instead of saturating as every other
     * duration of the library does (Deadlines.saturatedNanos) or being refused by the setter.
     */
    @Test
    void aVeryLongStallThresholdIsSaturatedOrRefusedByName() {
        final Machine.Builder b = Machine.builder().cores(1).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE);
        try {
            b.stallThreshold(Duration.ofDays(1_000_000));
        } catch (IllegalArgumentException refused) {
            assertThat(refused).hasMessageContaining("stallThreshold");
            return;
        }
        try (Machine m = b.build().start()) {
            assertThat(m.coreCount()).isEqualTo(1);
        }
    }

    /**
     * Finding: a core waiting in a {@link OverflowPolicy#BLOCK} send for room in a full mailbox
     * takes its own interrupts all the while (CpuPort.enqueue's back-off loop drains them), yet
     * reaches no boundary ({@code boundaryFault}, the progress count) and stays RUNNING, so the
     * stall watch reports it: a false stall, for a core that waits and takes interrupts. The
     * loop also ignores a preemption request for as long as it backs off.
     */
    @Test
    void aCoreWaitingForMailboxRoomIsNotAStall() throws Exception {
        final List<Integer> stalled = new CopyOnWriteArrayList<>();
        final Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
            .mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).blockTimeout(Duration.ofMillis(1500))
            .stallThreshold(Duration.ofMillis(20)).onStall(s -> stalled.add(s.cpu())).build();
        final org.ipi4j.interrupts.Vector v = org.ipi4j.interrupts.Vector.of(0x40);
        m.interrupts().register(v, irq -> { });
        m.start();
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        try {
            m.core(1).submit(() -> {
                stuck.countDown();
                release.await(); // core 1 takes no interrupts: its mailbox fills
                return null;
            });
            assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
            final CompletableFuture<Integer> sender = m.core(0).submit(() -> {
                int sent = 0;
                try {
                    for (; sent < 8; sent++) {
                        m.interrupts().send(1, v, sent); // the third waits for room, then gives up
                    }
                } catch (RuntimeException full) {
                    return sent;
                }
                return sent;
            });
            assertThat(sender.get(20, TimeUnit.SECONDS)).isLessThan(8);
            assertThat(stalled).as("stall reports (core 1 is stuck; core 0 only waited for room)").doesNotContain(0);
        } finally {
            release.countDown();
            m.shutdown(Duration.ofSeconds(5));
        }
    }

    /**
     * Finding: a {@code Sharded} whose {@code start} finishes while shutdown runs its
     * before-shutdown hooks registers its own hook too late: {@code Machine.beforeShutdown} adds
     * to a list whose iteration already began (a copy-on-write snapshot) and says nothing, so the
     * instances are never closed and the object never learns it is closed. "Register before
     * shutdown" is not enforced: nothing refuses the late registration.
     */
    @Test
    void aShardedStartedWhileShutdownBeginsIsStillClosedOrRefused() throws Exception {
        final List<Integer> closed = new CopyOnWriteArrayList<>();
        final Machine m = parked(2);
        final SmpCall smp = SmpCall.install(m);
        final CountDownLatch shutdownBegan = new CountDownLatch(1);
        final CountDownLatch startReturned = new CountDownLatch(1);
        m.beforeShutdown(left -> {
            shutdownBegan.countDown();
            try {
                startReturned.await(10, TimeUnit.SECONDS); // the start ends inside the hooks' run
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        final CompletableFuture<Sharded<Closing>> started = CompletableFuture.supplyAsync(() -> {
            try {
                return Sharded.start(smp, cpu -> {
                    if (cpu == 0) {
                        try {
                            shutdownBegan.await(10, TimeUnit.SECONDS); // a slow factory on core 0
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return new Closing(cpu, closed);
                });
            } finally {
                startReturned.countDown();
            }
        });
        m.shutdown(Duration.ofSeconds(10));
        boolean startFailed;
        try {
            started.get(10, TimeUnit.SECONDS);
            startFailed = false;
        } catch (ExecutionException e) {
            startFailed = true;
        }
        if (!startFailed) {
            assertThat(closed).as("instances of a Sharded started as shutdown began").containsExactlyInAnyOrder(0, 1);
        } else {
            assertThat(closed).as("a refused start closes what it made").containsExactlyInAnyOrder(0, 1);
        }
    }

    /** Probe: a timer scheduled before the machine starts runs once it does; one on a machine never started fails at shutdown. */
    @Test
    void aTimerScheduledBeforeStartRunsAfterItOrFailsAtShutdown() throws Exception {
        final Machine m = Machine.builder().cores(1).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build();
        final CountDownLatch ran = new CountDownLatch(1);
        final CoreTimer early = m.core(0).schedule(Duration.ZERO, ran::countDown);
        m.start();
        try {
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            early.get(10, TimeUnit.SECONDS);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        final Machine never = Machine.builder().cores(1).pinning(Pinning.NONE).build();
        final CoreTimer orphan = never.core(0).schedule(Duration.ZERO, () -> { });
        never.shutdown(Duration.ofSeconds(1));
        assertThatThrownBy(() -> orphan.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
    }

    /** Probe: the stall watch's thread ends with the shutdown, a core stuck at shutdown included. */
    @Test
    void theStallWatchThreadEndsWithTheShutdown() throws Exception {
        final CountDownLatch reported = new CountDownLatch(1);
        final Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE)
            .stallThreshold(Duration.ofMillis(5)).onStall(s -> reported.countDown()).build().start();
        final CountDownLatch release = new CountDownLatch(1);
        try {
            m.core(1).submit(() -> {
                release.await();
                return null;
            });
            assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
            m.shutdown(Duration.ofMillis(100));
        } finally {
            release.countDown();
        }
        final String name = m.name() + "-stall-watch";
        for (final Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                t.join(1000);
                assertThat(t.isAlive()).as("%s after shutdown", name).isFalse();
            }
        }
    }

    /** Probe: two closeable Sharded objects and a stuck core: shutdown still returns near its timeout, and records the core that did not answer. */
    @Test
    void twoShardedOnAStuckCoreDoNotHoldTheShutdownBeyondItsTimeout() throws Exception {
        final Machine m = parked(2);
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch stuck = new CountDownLatch(1);
        try {
            final SmpCall smp = SmpCall.install(m);
            Sharded.start(smp, cpu -> new Closing(cpu, new CopyOnWriteArrayList<>()));
            Sharded.start(smp, cpu -> new Closing(cpu, new CopyOnWriteArrayList<>()));
            m.core(1).submit(() -> {
                stuck.countDown();
                release.await();
                return null;
            });
            assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
            final long t0 = System.nanoTime();
            assertThat(m.shutdown(Duration.ofMillis(300)).stuckCores()).hasSize(1);
            final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(ms).as("shutdown(300 ms) took %d ms", ms).isLessThan(3_000);
            assertThat(m.oopses()).anySatisfy(o -> assertThat(o.toString()).contains("within the shutdown"));
        } finally {
            release.countDown();
        }
    }

    /** Probe: an outside thread scheduling timers while the machine shuts down: each timer handed out completes once shutdown returned. */
    @RepeatedTest(20)
    void timersScheduledWhileShutdownRunsAllComplete() throws Exception {
        final Machine m = parked(2);
        final List<CoreTimer> handedOut = new CopyOnWriteArrayList<>();
        final CountDownLatch going = new CountDownLatch(1);
        final Thread scheduler = new Thread(() -> {
            going.countDown();
            for (int i = 0; ; i++) {
                try {
                    handedOut.add(m.core(i & 1).schedule(Duration.ofNanos(i % 3 == 0 ? 0 : 1_000_000), () -> { }));
                } catch (MachineClosedException refused) {
                    return;
                }
            }
        });
        scheduler.start();
        assertThat(going.await(10, TimeUnit.SECONDS)).isTrue();
        m.shutdown(Duration.ofSeconds(5));
        scheduler.join(10_000);
        assertThat(scheduler.isAlive()).isFalse();
        for (final CoreTimer t : handedOut) {
            assertThat(t).as("%s after shutdown", t).isDone();
        }
    }

    /**
     * Finding: a before-shutdown hook that shuts the machine down (a service whose stop closes
     * the machine it runs on, say) re-enters {@code Machine.shutdown} on the same thread: the
     * monitor is reentrant and {@code report} is still null while the stop hooks run, so the
     * shutdown starts again from the top and runs the hooks again, recursively, until a
     * StackOverflowError (the hook ran 1713 times here); each level then runs the rest of the
     * shutdown (closing the controller, stopping the cores, the shutdown hooks) once more.
     */
    @Test
    void aBeforeShutdownHookThatCallsShutdownIsHarmless() {
        final Machine m = parked(1);
        final java.util.concurrent.atomic.AtomicInteger hookRuns = new java.util.concurrent.atomic.AtomicInteger();
        final AtomicReference<Object> inner = new AtomicReference<>();
        m.beforeShutdown(left -> {
            hookRuns.incrementAndGet();
            try {
                inner.set(m.shutdown(Duration.ofSeconds(1)));
            } catch (RuntimeException | Error e) {
                inner.set(e);
            }
        });
        final ShutdownReport outer = m.shutdown(Duration.ofSeconds(5));
        assertThat(hookRuns.get()).as("runs of the hook").isEqualTo(1);
        assertThat(inner.get()).as("the nested shutdown's outcome").isNotInstanceOf(StackOverflowError.class);
        assertThat(outer).isNotNull();
    }

    /** Probe: close() racing invokeOn from another thread: every call returns or is refused with IllegalStateException; every instance is closed once. */
    @RepeatedTest(10)
    void closeRacingInvokeOnRefusesOrAnswersEveryCall() throws Exception {
        final List<Integer> closed = new CopyOnWriteArrayList<>();
        try (Machine m = parked(2)) {
            final Sharded<Closing> shards = Sharded.start(SmpCall.install(m), cpu -> new Closing(cpu, closed));
            final AtomicReference<Throwable> wrong = new AtomicReference<>();
            final CountDownLatch going = new CountDownLatch(1);
            final Thread caller = new Thread(() -> {
                going.countDown();
                for (int i = 0; ; i++) {
                    try {
                        final int cpu = shards.<Integer>invokeOn(i & 1, s -> s.cpu);
                        if (cpu != (i & 1)) {
                            wrong.set(new AssertionError("answer " + cpu + " from core " + (i & 1)));
                        }
                    } catch (IllegalStateException refused) {
                        return;
                    } catch (org.ipi4j.smp.SmpCallException late) {
                        if (!(late.getCause() instanceof IllegalStateException)) {
                            wrong.set(late);
                        }
                        return;
                    } catch (Throwable t) {
                        wrong.set(t);
                        return;
                    }
                }
            });
            caller.start();
            assertThat(going.await(10, TimeUnit.SECONDS)).isTrue();
            shards.close();
            caller.join(10_000);
            assertThat(caller.isAlive()).isFalse();
            assertThat(wrong.get()).isNull();
            assertThat(closed).containsExactlyInAnyOrder(0, 1);
        }
        assertThat(closed).containsExactlyInAnyOrder(0, 1);
    }

    /** Probe: a core preempted until resumed with a timer armed: shutdown resumes it and the timer's future completes. */
    @Test
    void aPreemptedCoresTimerCompletesAtShutdown() throws Exception {
        final Machine m = parked(2);
        m.core(1).submit(() -> {
            m.core(1).preempt(Duration.ofDays(1)); // stops at its next boundary
            return null;
        }).get(10, TimeUnit.SECONDS);
        final CoreTimer t = m.core(1).schedule(Duration.ofDays(1), () -> { });
        assertThat(m.shutdown(Duration.ofSeconds(5)).isClean()).isTrue();
        assertThatThrownBy(() -> t.get(1, TimeUnit.SECONDS)).hasCauseInstanceOf(MachineClosedException.class);
    }

    /**
     * Finding: {@code Sharded.start} on a machine built but not started is not refused: its waited
     * {@code onEachCore} goes to cores that do not run, waits out the watchdog twice, and then the
     * failure path's second {@code onEachCore} (closing what was made) waits as long again: four
     * watchdog periods (80 s with a 20 s watchdog, 20 s with the default) before it throws.
     */
    @Test
    void shardedStartOnAnUnstartedMachineAnswersAtOnce() {
        final Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build();
        final SmpCall smp = SmpCall.builder(m).watchdog(Duration.ofSeconds(3)).install();
        final long t0 = System.nanoTime();
        Object outcome;
        try {
            outcome = Sharded.start(smp, cpu -> new int[] {cpu});
        } catch (RuntimeException refused) {
            outcome = refused;
        }
        final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        m.shutdown(Duration.ofSeconds(1));
        assertThat(ms).as("Sharded.start on an unstarted machine took %d ms, then: %s", ms, outcome).isLessThan(2_500);
    }
}
