package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.Scheduler;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.smp.SmpCallException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conservation under a racing shutdown: two threads send payloads, submit tasks to cores and to
 * the scheduler, make cross-core calls and revoke and restore page rights (shootdowns on a space
 * every core runs) while the main thread shuts the machine down, under
 * every idle policy and both overflow policies, over many rounds. Every operation is accounted
 * for: a payload whose send returned was handled exactly once or handed back in the shutdown
 * report; a payload refused (closed machine, full mailbox) was neither; an accepted task or call
 * ran exactly once, or its future failed with {@link MachineClosedException} and it never ran; a
 * refused one never ran; every future is complete when shutdown returns; no shootdown that
 * returned left a stale translation; shutdown honours its timeout. 1.04 million operations per
 * run of the test class, in a few seconds.
 */
@EndToEnd
@Timeout(300)
class ConservationStressTest {
    private static final Vector V = Vector.of(0x40);
    private static final int ROUNDS = 13; // 4 x 2 configurations x 13 rounds x 10,000 operations: 1.04 million
    private static final int OPS_PER_THREAD = 5_000;
    private static final int THREADS = 2;
    static final AtomicLong TOTAL_OPS = new AtomicLong();

    static Stream<Arguments> configurations() {
        final List<Arguments> out = new ArrayList<>();
        for (final IdlePolicy idle : new IdlePolicy[] {IdlePolicy.park(), IdlePolicy.adaptive(),
            IdlePolicy.poll(Duration.ofNanos(50_000)), IdlePolicy.spin()}) {
            for (final OverflowPolicy overflow : OverflowPolicy.values()) {
                out.add(Arguments.of(idle, overflow));
            }
        }
        return out.stream();
    }

    /** Kinds of operation, by id % KINDS: send, core task, scheduler job, cross-call, shootdown. */
    private static final int KINDS = 5;

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("configurations")
    void nothingLostNothingRefusedRanNothingPending(final IdlePolicy idle, final OverflowPolicy overflow) throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            oneRound(idle, overflow, round);
        }
    }

    private static void oneRound(final IdlePolicy idle, final OverflowPolicy overflow, final int round) throws Exception {
        final Machine m = Machine.builder().name("conserve").cores(2).idlePolicy(idle).pinning(Pinning.NONE)
            .mailboxCapacity(64).overflowPolicy(overflow).blockTimeout(Duration.ofSeconds(2)).build().start();
        final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(30), org.ipi4j.smp.Broadcast.flat());
        final Scheduler scheduler = Scheduler.on(m);
        final Mmu mmu = Mmu.builder(smp).pageWords(64).detectStale(true).build();
        final AddressSpace space = mmu.newAddressSpace(THREADS);
        for (int t = 0; t < THREADS; t++) {
            space.map(t, t, Pte.READ | Pte.WRITE);
        }
        for (final Core c : m.cores()) { // every core runs the space, its TLB warm
            c.submit(() -> {
                mmu.switchTo(space);
                for (int t = 0; t < THREADS; t++) {
                    mmu.read(space, (long) t * 64);
                }
            }).get(10, TimeUnit.SECONDS);
        }
        final int ids = THREADS * OPS_PER_THREAD;
        final AtomicIntegerArray handled = new AtomicIntegerArray(ids);
        final AtomicIntegerArray ran = new AtomicIntegerArray(ids);
        final AtomicIntegerArray accepted = new AtomicIntegerArray(ids); // 1 accepted, 2 refused
        final List<List<CompletableFuture<?>>> futures = new ArrayList<>();
        final List<List<Integer>> futureIds = new ArrayList<>();
        m.interrupts().register(V, irq -> {
            for (final Object p : irq.payloads()) {
                handled.incrementAndGet((Integer) p);
            }
        });
        final CountDownLatch halfway = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int base = t * OPS_PER_THREAD;
            final List<CompletableFuture<?>> fs = new ArrayList<>();
            final List<Integer> fids = new ArrayList<>();
            futures.add(fs);
            futureIds.add(fids);
            final Thread w = new Thread(() -> {
                for (int i = 0; i < OPS_PER_THREAD; i++) {
                    final int id = base + i;
                    final int cpu = id % 2;
                    if (i == OPS_PER_THREAD / 2) {
                        halfway.countDown();
                    }
                    try {
                        switch (id % KINDS) {
                            case 0 -> m.interrupts().send(cpu, V, id);
                            case 1 -> {
                                fs.add(m.core(cpu).submit(() -> ran.incrementAndGet(id)));
                                fids.add(id);
                            }
                            case 2 -> {
                                fs.add(scheduler.submit(cpu, () -> ran.incrementAndGet(id)));
                                fids.add(id);
                            }
                            case 4 -> { // revoke write on this thread's page, or give it back
                                final int page = id / OPS_PER_THREAD;
                                space.protect(page, 1, (i / KINDS) % 2 == 0 ? Pte.READ : Pte.READ | Pte.WRITE);
                            }
                            default -> {
                                if ((id / KINDS) % 2 == 0) {
                                    smp.run(cpu, c -> ran.incrementAndGet(id)); // waited
                                } else {
                                    fs.add(smp.callAsync(cpu, c -> ran.incrementAndGet(id)));
                                    fids.add(id);
                                }
                            }
                        }
                        accepted.set(id, 1);
                    } catch (MachineClosedException | MailboxFullException e) {
                        accepted.set(id, 2);
                    } catch (SmpCallException e) {
                        // a waited call racing the close: its target was answered "closed", not run
                        assertThat(e.failures().values()).allMatch(x -> x instanceof MachineClosedException);
                        accepted.set(id, 2);
                    } catch (CallTimeoutException e) {
                        // a protect racing the close: changed, and its shootdown abandoned by the shutdown
                        assertThat(id % KINDS).as("only a shootdown reports an abandoned call this way").isEqualTo(4);
                        assertThat(m.isClosed()).isTrue();
                        accepted.set(id, 2);
                    }
                }
            }, "conserve-" + t);
            workers.add(w);
        }
        workers.forEach(Thread::start);
        halfway.await(60, TimeUnit.SECONDS);
        final long shutdownStart = System.nanoTime();
        final ShutdownReport report = m.shutdown(Duration.ofSeconds(20));
        final long shutdownMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - shutdownStart);
        for (final Thread w : workers) {
            w.join(60_000);
            assertThat(w.isAlive()).as("worker finished").isFalse();
        }
        assertThat(report.stuckCores()).as("round %d: stuck cores", round).isEmpty();
        assertThat(shutdownMillis).as("round %d: shutdown(20 s) took %d ms", round, shutdownMillis).isLessThan(20_000);
        // A shootdown that returned left no core translating through the revoked entry.
        assertThat(space.stats().violations()).as("round %d: stale translations after a shootdown", round).isZero();
        final AtomicIntegerArray inReport = new AtomicIntegerArray(ids);
        for (final UndeliveredInterrupt u : report.undelivered()) {
            for (final Object p : u.payloads()) {
                inReport.incrementAndGet((Integer) p);
            }
        }
        final String where = idle + ", " + overflow + ", round " + round;
        // Futures: complete when shutdown has returned; failed ones never ran.
        for (int t = 0; t < THREADS; t++) {
            for (int i = 0; i < futures.get(t).size(); i++) {
                final CompletableFuture<?> f = futures.get(t).get(i);
                final int id = futureIds.get(t).get(i);
                assertThat(f.isDone()).as("%s: future of op %d done when shutdown returned", where, id).isTrue();
                if (f.isCompletedExceptionally()) {
                    assertThat(ran.get(id)).as("%s: op %d failed but ran", where, id).isZero();
                    final Throwable e = f.handle((v, x) -> x).join();
                    if (e instanceof SmpCallException sce) { // a call: per-target causes
                        assertThat(sce.failures().values()).allMatch(x -> x instanceof MachineClosedException);
                    } else {
                        assertThat(e).isInstanceOf(MachineClosedException.class);
                    }
                } else {
                    assertThat(ran.get(id)).as("%s: op %d completed", where, id).isEqualTo(1);
                }
            }
        }
        for (int id = 0; id < ids; id++) {
            final int state = accepted.get(id);
            assertThat(state).as("%s: op %d has an outcome", where, id).isIn(1, 2);
            if (id % KINDS == 0) {
                final int seen = handled.get(id) + inReport.get(id);
                assertThat(seen).as("%s: payload %d (accepted=%d) handled %d, in report %d", where, id, state,
                    handled.get(id), inReport.get(id)).isEqualTo(state == 1 ? 1 : 0);
            } else if (id % KINDS == 4) {
                continue; // a shootdown returned or was refused; the stale-access detector judged it
            } else if (state == 2) {
                assertThat(ran.get(id)).as("%s: refused op %d ran", where, id).isZero();
            } else if (id % KINDS == 3 && (id / KINDS) % 2 == 0) {
                assertThat(ran.get(id)).as("%s: waited call %d returned", where, id).isEqualTo(1);
            }
        }
        TOTAL_OPS.addAndGet(ids);
    }
}
