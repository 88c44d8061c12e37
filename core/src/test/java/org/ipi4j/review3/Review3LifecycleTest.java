package org.ipi4j.review3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 3: the split lifecycle (MachineLifecycle, CoreThread, ThreadOwner) where it meets user code. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Review3LifecycleTest {

    /**
     * Finding: a ThreadFactory whose thread ends (here: throws) before it runs the body it was
     * given leaves start() waiting forever for the core's "running" count-down (MachineLifecycle
     * start's running.await() has no bound and no check that the thread is still alive).
     */
    @Test
    void aFactoryThreadThatDiesBeforeTheRunLoopDoesNotHangStart() throws Exception {
        final ThreadFactory dying = body -> new Thread(() -> {
            throw new IllegalStateException("review3: the factory's thread fails before the core's body");
        });
        final Machine m = Machine.builder().cores(2).threadFactory(dying).build();
        final AtomicReference<Thread> starter = new AtomicReference<>();
        final CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
            starter.set(Thread.currentThread());
            try {
                m.start();
                return "started";
            } catch (RuntimeException e) {
                return e;
            }
        });
        try {
            final Object r = outcome.get(10, TimeUnit.SECONDS);
            assertThat(r).as("start() with a core thread that never ran its body").isInstanceOf(RuntimeException.class);
        } catch (TimeoutException hung) {
            throw new AssertionError("Machine.start() still waiting 10 s after every core thread died before its "
                + "run loop (nothing will ever count its start down)", hung);
        } finally {
            final Thread t = starter.get();
            if (t != null) {
                t.interrupt(); // start's await turns an interrupt into an exception: frees the pool thread
            }
            m.shutdown(Duration.ofSeconds(2));
        }
    }

    /**
     * Finding: a ThreadFactory that returns the same (still unstarted) thread for two cores passes
     * CoreThread.make's "new, unstarted" check (the thread is NEW until the first start), then
     * MachineLifecycle.start sets STARTED, starts it, and the second Thread.start throws a bare
     * IllegalThreadStateException: the refusal comes after side effects and does not name the factory.
     */
    @Test
    void aFactoryReturningTheSameThreadTwiceIsRefusedNamingItBeforeAnyThreadStarts() {
        final AtomicReference<Thread> only = new AtomicReference<>();
        final ThreadFactory same = body -> {
            only.compareAndSet(null, new Thread(body, "review3-the-one-thread"));
            return only.get();
        };
        final Machine m = Machine.builder().cores(2).threadFactory(same).build();
        try {
            assertThatThrownBy(m::start)
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("threadFactory");
            assertThat(only.get().getState()).as("no thread started by a refused start").isEqualTo(Thread.State.NEW);
        } finally {
            m.shutdown(Duration.ofSeconds(2));
        }
    }

    /** Finding (message): start() after close() says "already started" of a machine that never was. */
    @Test
    void startAfterCloseSaysTheMachineIsClosed() {
        final Machine m = Machine.builder().cores(1).build();
        m.close();
        assertThatThrownBy(m::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /** Probe: start racing close on another thread: either start wins and close stops it, or start is refused; never a hang. */
    @RepeatedTest(20)
    void startRacingCloseNeverHangsAndLeavesNoCoreRunning() throws Exception {
        final Machine m = Machine.builder().cores(2).build();
        final CountDownLatch go = new CountDownLatch(1);
        final CompletableFuture<Object> starting = CompletableFuture.supplyAsync(() -> {
            try {
                go.await();
                m.start();
                return "started";
            } catch (InterruptedException | RuntimeException e) {
                return e;
            }
        });
        final CompletableFuture<Object> closing = CompletableFuture.supplyAsync(() -> {
            try {
                go.await();
                m.close();
                return "closed";
            } catch (InterruptedException | RuntimeException e) {
                return e;
            }
        });
        go.countDown();
        assertThat(closing.get(10, TimeUnit.SECONDS)).isEqualTo("closed");
        final Object s = starting.get(10, TimeUnit.SECONDS);
        assertThat(s).satisfiesAnyOf(x -> assertThat(x).isEqualTo("started"),
            x -> assertThat(x).isInstanceOf(IllegalStateException.class));
        assertThat(m.isClosed()).isTrue();
        m.close();
        for (final Core c : m.cores()) {
            assertThat(c.state().toString()).isNotEqualTo("RUNNING");
        }
    }

    /** Probe: Core.current() on a factory's thread after its core body ended (the factory's thread goes on). */
    @Test
    void coreCurrentIsNullOnAFactoryThreadOnceItsCoreEnded() throws Exception {
        final CompletableFuture<Core> after = new CompletableFuture<>();
        final ThreadFactory goesOn = body -> new Thread(() -> {
            body.run();
            after.complete(Core.current());
        });
        final Machine m = Machine.builder().cores(1).threadFactory(goesOn).build().start();
        m.close();
        assertThat(after.get(10, TimeUnit.SECONDS)).isNull();
    }

    /** Probe: a machine started from a core of another: each core's Core.current() is its own; shutdown of the inner one from the outer core works. */
    @Test
    void aNestedMachineStartedAndClosedFromACoreOfAnother() throws Exception {
        try (Machine outer = Machine.builder().name("outer").cores(2).build().start()) {
            final Object r = outer.core(1).submit(() -> {
                final Core mine = Core.current();
                try (Machine inner = Machine.builder().name("inner").cores(2).build().start()) {
                    final Core innerCore = inner.core(0).submit(Core::current).get(5, TimeUnit.SECONDS);
                    assertThat(innerCore).isSameAs(inner.core(0));
                    assertThat(inner.currentCore()).as("an outer core is no core of the inner machine").isNull();
                }
                assertThat(Core.current()).isSameAs(mine);
                return "ok";
            }).get(20, TimeUnit.SECONDS);
            assertThat(r).isEqualTo("ok");
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }

    /** Probe: close() from an onShutdown hook and from a beforeShutdown hook (same thread) neither hangs nor runs the shutdown twice. */
    @Test
    void closeFromTheShutdownHooksReturns() throws Exception {
        final Machine m = Machine.builder().cores(2).build().start();
        final AtomicReference<Throwable> fromBefore = new AtomicReference<>();
        m.beforeShutdown(left -> {
            try {
                m.close();
            } catch (Throwable t) {
                fromBefore.set(t);
            }
        });
        final CountDownLatch hookRan = new CountDownLatch(1);
        m.onShutdown(() -> {
            m.close();
            hookRan.countDown();
        });
        final CompletableFuture<Void> closing = CompletableFuture.runAsync(m::close);
        closing.get(20, TimeUnit.SECONDS);
        assertThat(hookRan.await(1, TimeUnit.SECONDS)).isTrue();
        assertThat(fromBefore.get()).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Finding: MachineLifecycle.start calls the user's ThreadFactory while it holds the lifecycle
     * lock, which shutdown(timeout) and close() take first thing: a factory that blocks makes
     * shutdown(100 ms) from another thread wait for as long as the factory does, its timeout
     * unhonoured.
     */
    @Test
    void shutdownHonoursItsTimeoutWhileAThreadFactoryBlocksInStart() throws Exception {
        final CountDownLatch inFactory = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final ThreadFactory blocking = body -> {
            inFactory.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new Thread(body);
        };
        final Machine m = Machine.builder().cores(1).threadFactory(blocking).build();
        final CompletableFuture<Void> starting = CompletableFuture.runAsync(() -> {
            try {
                m.start();
            } catch (RuntimeException refused) {
                // the shutdown won: fine for this test
            }
        });
        try {
            assertThat(inFactory.await(10, TimeUnit.SECONDS)).isTrue();
            final CompletableFuture<Object> stopping = CompletableFuture.supplyAsync(() -> m.shutdown(Duration.ofMillis(100)));
            try {
                assertThat(stopping.get(5, TimeUnit.SECONDS)).isNotNull();
            } catch (TimeoutException e) {
                throw new AssertionError("shutdown(100 ms) still blocked after 5 s: start holds the lifecycle lock "
                    + "while the ThreadFactory blocks", e);
            }
        } finally {
            release.countDown();
            starting.get(10, TimeUnit.SECONDS);
            m.shutdown(Duration.ofSeconds(2));
        }
    }

    /**
     * Finding (same root as the dying thread): a factory thread that blocks before it runs the
     * core's body keeps start() waiting even after shutdown() from another thread returned; start
     * never learns the machine was closed.
     */
    @Test
    void startReturnsOnceAShutdownEndedTheMachineWhoseThreadNeverRanItsBody() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch threadRuns = new CountDownLatch(1);
        final ThreadFactory stalling = body -> new Thread(() -> {
            threadRuns.countDown(); // start() has started it: it is past its lock, in (or at) its wait
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        final Machine m = Machine.builder().cores(1).threadFactory(stalling).build();
        final AtomicReference<Thread> starter = new AtomicReference<>();
        final CompletableFuture<Object> starting = CompletableFuture.supplyAsync(() -> {
            starter.set(Thread.currentThread());
            try {
                m.start();
                return "started";
            } catch (RuntimeException e) {
                return e;
            }
        });
        try {
            assertThat(threadRuns.await(10, TimeUnit.SECONDS)).isTrue();
            m.shutdown(Duration.ofMillis(200));
            try {
                starting.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("start() still waiting 10 s after shutdown() returned", e);
            }
        } finally {
            release.countDown(); // the thread ends without running the body; start's latch stays up
            final Thread t = starter.get();
            if (t != null) {
                t.interrupt(); // frees the starter (start turns the interrupt into an exception)
            }
        }
    }

    /** Probe: close() from a core's task, its timer and a cross-core handler is refused naming the core; the machine still closes from outside. */
    @Test
    void closeFromACoresOwnThreadIsRefusedAndTheMachineStillCloses() throws Exception {
        final Machine m = Machine.builder().cores(2).build().start();
        final org.ipi4j.smp.SmpCall smp = org.ipi4j.smp.SmpCall.install(m);
        final CompletableFuture<Throwable> fromTask = new CompletableFuture<>();
        m.core(0).submit(() -> fromTask.complete(closing(m))).get(10, TimeUnit.SECONDS);
        final CompletableFuture<Throwable> fromTimer = new CompletableFuture<>();
        m.core(1).schedule(Duration.ofMillis(1), () -> fromTimer.complete(closing(m)));
        final CompletableFuture<Throwable> fromHandler = new CompletableFuture<>();
        smp.run(1, cpu -> fromHandler.complete(closing(m)));
        for (final CompletableFuture<Throwable> f : List.of(fromTask, fromTimer, fromHandler)) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("core");
        }
        m.close();
        assertThat(m.isClosed()).isTrue();
    }

    private static Throwable closing(final Machine m) {
        try {
            m.close();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /**
     * Finding: a second shutdown(100 ms), from another thread, while a first shutdown(3 s) waits
     * for a stuck core, blocks on the lifecycle lock until the first one ends: its own timeout is
     * not honoured (MachineLifecycle.shutdown is synchronized for its whole length).
     */
    @Test
    void aSecondShutdownHonoursItsOwnTimeoutWhileTheFirstWaitsForAStuckCore() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch inTask = new CountDownLatch(1);
        final Machine m = Machine.builder().cores(2).build().start();
        m.core(1).submit(() -> {
            inTask.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(inTask.await(10, TimeUnit.SECONDS)).isTrue();
            final CompletableFuture<Object> first = CompletableFuture.supplyAsync(() -> m.shutdown(Duration.ofSeconds(3)));
            while (!m.isClosed()) { // the first shutdown has closed the controller: it is waiting for core 1 now
                Thread.onSpinWait();
            }
            final CompletableFuture<Object> second = CompletableFuture.supplyAsync(() -> m.shutdown(Duration.ofMillis(100)));
            try {
                second.get(1500, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("shutdown(100 ms) still blocked after 1.5 s, behind another thread's "
                    + "shutdown(3 s) (first done: " + first.isDone() + ")", e);
            }
        } finally {
            release.countDown();
            m.shutdown(Duration.ofSeconds(5));
        }
    }

    /** Probe: close() from the stall watch's listener (on the watch's own thread) returns and closes the machine. */
    @Test
    void closeFromTheStallListenerReturns() throws Exception {
        final CountDownLatch release = new CountDownLatch(1);
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();
        final AtomicReference<Machine> machine = new AtomicReference<>();
        final Machine m = Machine.builder().cores(2).stallThreshold(Duration.ofMillis(50)).onStall(stall -> {
            release.countDown(); // the stuck core goes on: the close can stop it
            if (!closed.isDone()) {
                closed.complete(closing(machine.get()));
            }
        }).build();
        machine.set(m);
        m.start();
        m.core(1).submit(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(closed.get(20, TimeUnit.SECONDS)).isNull();
            assertThat(m.isClosed()).isTrue();
        } finally {
            release.countDown();
            m.shutdown(Duration.ofSeconds(2));
        }
    }

    /**
     * Finding: beforeShutdown racing shutdown. A registration refused with MachineClosedException
     * ("a before-shutdown hook registered now would not run") sometimes runs all the same: the
     * shutdown took its copy-on-write snapshot after the add, and the remove that follows the
     * refusal cannot take it back. MachineLifecycle.beforeShutdown's comment admits it ("or both:
     * the hook then runs and we throw"); the public contract does not. Racy: up to 1500 rounds,
     * it stops at the first.
     */
    @Test
    void aRefusedBeforeShutdownHookNeverRunsAndAnAcceptedOneAlwaysDoes() throws Exception {
        int refusedButRan = 0;
        int acceptedButNotRun = 0;
        for (int round = 0; round < 1500 && refusedButRan == 0; round++) {
            final Machine m = Machine.builder().cores(1).build().start();
            final CountDownLatch go = new CountDownLatch(1);
            final java.util.concurrent.ConcurrentHashMap<Integer, Boolean> ran = new java.util.concurrent.ConcurrentHashMap<>();
            final CompletableFuture<int[]> registering = CompletableFuture.supplyAsync(() -> {
                int accepted = 0;
                try {
                    go.await();
                    for (int i = 0; ; i++) {
                        final int id = i;
                        try {
                            m.beforeShutdown(left -> ran.put(id, true));
                            accepted = i + 1;
                        } catch (RuntimeException refused) {
                            return new int[] {accepted, id};
                        }
                    }
                } catch (InterruptedException e) {
                    return new int[] {accepted, -1};
                }
            });
            go.countDown();
            m.close();
            final int[] r = registering.get(10, TimeUnit.SECONDS);
            if (r[1] >= 0 && ran.containsKey(r[1])) {
                refusedButRan++;
            }
            for (int i = 0; i < r[0]; i++) {
                if (!ran.containsKey(i)) {
                    acceptedButNotRun++;
                }
            }
        }
        assertThat(acceptedButNotRun).as("accepted hooks that never ran").isZero();
        assertThat(refusedButRan).as("refused hooks that ran anyway").isZero();
    }
}
