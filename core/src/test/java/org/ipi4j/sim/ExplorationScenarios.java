package org.ipi4j.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.time.Timeline;

/**
 * Small runs of the real protocols where two of them meet, each with the one property it must
 * keep, for {@link ExplorationTest} to run under many schedules. A run is a function of its
 * simulation alone (its seed decides the scenario's own few random choices too), so a seed that
 * breaks the property replays.
 */
final class ExplorationScenarios {
    /** Work without an instruction boundary, charged as the delivery path charges a send. */
    private static final Timeline.Work SEND = Timeline.Work.named("send");

    static final int PAGE = 16;
    /** Rounds of core 0's two writes: long enough for a rival's broadcast to meet them. */
    private static final int WRITES = 8;

    /** One scenario: runs once on the given simulation and says what broke. */
    interface Scenario {
        Verdict run(Simulation sim) throws Exception;
    }

    /**
     * What one run found: its schedule's hash and steps, whether it reached the state where the
     * two protocols meet (so that a clean exploration is not a vacuous one), and each broken
     * property (empty: safe).
     */
    record Verdict(long seed, long trace, long steps, boolean reached, List<String> broken) {
        boolean safe() {
            return broken.isEmpty();
        }

        @Override
        public String toString() {
            return "seed " + seed + " (" + steps + " steps" + (reached ? ", reached" : "") + "): "
                + (broken.isEmpty() ? "safe" : String.join("; ", broken));
        }
    }

    /** PCT at depth {@code d} over {@code k} expected steps (a scenario's usual count, see ExplorationTest). */
    static LongFunction<Simulation> pct(final int d, final long k) {
        return seed -> Simulation.builder().seed(seed).pct(d, k).build();
    }

    /** The plain random mode, for comparison: jitter and a coin at each interleaving point. */
    static final LongFunction<Simulation> RANDOM = seed -> Simulation.builder().seed(seed).jitter(0.5).interleaving(0.3).build();

    private ExplorationScenarios() {
    }

    // =====================================================================================
    // Finding 1: a space turning global, two initiators, a core translating
    // =====================================================================================

    /**
     * A space running on three cores (set up first) with broadcast invalidation from three cores on. Core 0 writes
     * page 0 twice in a row (a miss, then a hit, with no instruction boundary between, so no IPI
     * comes between), {@value #WRITES} times over; core 1 revokes WRITE on page 1 (its shootdown is
     * the first, so it is the transition to global, an IPI round); core 2, after a seeded number of
     * instruction boundaries, revokes WRITE on page 0 (by broadcast if it finds the space global,
     * by IPIs otherwise). Property: once core 2's
     * {@code protect} has returned, no write through page 0 succeeds, and the stale detector counts
     * no violation.
     */
    static Verdict globalTransition(final Simulation sim) throws Exception {
        final SplittableRandom r = new SplittableRandom(sim.seed() ^ 0x5DEECE66DL);
        final int rivalDelay = r.nextInt(40); // boundaries before core 2 protects: before, during or after the round
        final List<String> broken = Collections.synchronizedList(new ArrayList<>());
        final Machine m = Machine.builder().name("explore-global-" + sim.seed()).cores(3).simulation(sim)
            .memoryWords(8 * PAGE).build().start();
        final AddressSpace as;
        boolean reached = false;
        try {
            // 1 ms of virtual time: the run takes microseconds, a time-out is a hang.
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(1), Broadcast.flat());
            final Mmu mmu = Mmu.builder(smp).pageWords(PAGE).broadcastInvalidation(3).detectStale(true).build();
            as = mmu.newAddressSpace(4);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            as.map(1, 2, Pte.READ | Pte.WRITE);
            final boolean[] revoked = new boolean[1]; // written and read under the baton: one thread at a time
            sim.run(() -> {
                // Every core runs the space before the race: the first protect is the transition.
                for (int cpu = 0; cpu < 3; cpu++) {
                    sim.await(m.core(cpu).submit(() -> mmu.switchTo(as)));
                }
                final CompletableFuture<?> writer = m.core(0).submit(() -> {
                    for (int i = 0; i < WRITES; i++) {
                        try {
                            mmu.write(as, 0, i); // a miss: page walk, then fill
                            boolean late = revoked[0]; // the write's translation ended after the protect returned
                            mmu.write(as, 1, i); // a hit on what the fill cached
                            late |= revoked[0];
                            if (late) {
                                broken.add("core 0 wrote page 0 (round " + i + ") after protect(page 0, READ) returned"
                                    + " on core 2" + (as.isGlobal() ? " (space global)" : ""));
                            }
                        } catch (PageFaultException revokedNow) {
                            // the right is gone: the answer after the protect
                        }
                        Core.current().checkpoint();
                    }
                });
                final CompletableFuture<?> first = m.core(1).submit(() -> as.protect(1, 1, Pte.READ));
                final CompletableFuture<?> second = m.core(2).submit(() -> {
                    for (int i = 0; i < rivalDelay; i++) {
                        Core.current().checkpoint();
                    }
                    as.protect(0, 1, Pte.READ);
                    revoked[0] = true;
                });
                sim.await(writer);
                sim.await(first);
                sim.await(second);
                return null;
            });
            reached = as.broadcastShootdowns() > 0; // a rival went by broadcast once the space was global
            if (as.stats().violations() > 0) {
                broken.add(as.stats().violations() + " translations through a revoked entry after its shootdown returned: "
                    + as.staleAccessLog());
            }
        } catch (SimulationException | CallTimeoutException | ExecutionException e) {
            broken.add("the run failed: " + e);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        return new Verdict(sim.seed(), sim.trace(), sim.steps(), reached, List.copyOf(broken));
    }

    // =====================================================================================
    // Finding 2: a BLOCK send whose back-off runs a handler that sends, and close()
    // =====================================================================================

    private static final Vector TO_TARGET = Vector.of(0x40);
    private static final Vector TO_SENDER = Vector.of(0x41);
    private static final Vector NESTED = Vector.of(0x42);

    /**
     * Mailboxes of 2, {@link OverflowPolicy#BLOCK}. Core 0 (the target) is busy for a while
     * without an instruction boundary; core 1 sends it three payloads, so the third waits in the
     * BLOCK back-off, which runs core 1's own handlers; the outside caller sends core 1 an
     * interrupt whose handler sends a payload to core 2 (a send nested in the outer one), then
     * closes the machine's interrupt controller and, the moment {@code close()} returns, collects
     * every mailbox as shutdown does. Property: every payload a send accepted was handled before
     * the collection or collected, exactly once; none is accepted after {@code close()} returned.
     * The scenario's delays come from the seed.
     */
    static Verdict nestedSendDuringClose(final Simulation sim) throws Exception {
        final SplittableRandom r = new SplittableRandom(sim.seed() ^ 0x9E3779B97F4A7C15L);
        final int busyRounds = 5 + r.nextInt(40);
        final int beforeKick = r.nextInt(10);
        final int beforeClose = r.nextInt(10);
        final List<String> broken = Collections.synchronizedList(new ArrayList<>());
        // Under the baton: one thread at a time reads and writes these.
        final List<Object> accepted = new ArrayList<>();
        final Map<Object, Integer> seen = new HashMap<>();
        final boolean[] collected = new boolean[1];
        final boolean[] inOuterSend = new boolean[1];
        final boolean[] reached = new boolean[1];
        final Machine m = Machine.builder().name("explore-close-" + sim.seed()).cores(3).simulation(sim)
            .mailboxCapacity(2).overflowPolicy(OverflowPolicy.BLOCK).blockTimeout(Duration.ofMillis(1)).build().start();
        try {
            final InterruptController ic = m.interrupts();
            final Timeline t = m.timeline();
            // A payload handled after the collection was taken off its mailbox before it (or it was
            // accepted late, which send() reports): it counts as handled.
            final InterruptHandler record = irq -> {
                for (final Object p : irq.payloads()) {
                    seen.merge(p, 1, Integer::sum);
                }
            };
            ic.register(TO_TARGET, record);
            ic.register(NESTED, record);
            ic.register(TO_SENDER, irq -> {
                record.handle(irq);
                reached[0] |= inOuterSend[0]; // taken in the BLOCK back-off of core 1's third send
                send(ic, 2, NESTED, "nested", accepted, collected, broken); // ends inside core 1's outer send
            });
            sim.run(() -> {
                final CompletableFuture<?> target = m.core(0).submit(() -> {
                    for (int i = 0; i < busyRounds; i++) {
                        t.spend(SEND, 1); // work without an instruction boundary
                    }
                    Core.current().checkpoint();
                });
                final CompletableFuture<?> sender = m.core(1).submit(() -> {
                    for (int i = 1; i <= 3; i++) {
                        inOuterSend[0] = i == 3;
                        send(ic, 0, TO_TARGET, "payload-" + i, accepted, collected, broken);
                    }
                    inOuterSend[0] = false;
                });
                t.spend(SEND, beforeKick);
                send(ic, 1, TO_SENDER, "kick", accepted, collected, broken);
                t.spend(SEND, beforeClose);
                // The deadline is real time (shutdown's clock): 10 s is a sender stuck for good.
                final List<String> inFlight = ic.close(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
                if (!inFlight.isEmpty()) {
                    broken.add("close() gave up waiting for " + inFlight);
                }
                // What shutdown collects once the senders are out: every mailbox, now.
                for (int cpu = 0; cpu < 3; cpu++) {
                    for (final UndeliveredInterrupt u : ic.apic(cpu).takeAll()) {
                        for (final Object p : u.payloads()) {
                            seen.merge(p, 1, Integer::sum);
                        }
                    }
                }
                collected[0] = true;
                sim.await(target);
                sim.await(sender);
                return null;
            });
            for (final Object p : accepted) {
                final int n = seen.getOrDefault(p, 0);
                if (n != 1) {
                    broken.add(p + " was accepted and then handled or collected " + n + " times");
                }
            }
        } catch (SimulationException | ExecutionException e) {
            broken.add("the run failed: " + e);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        return new Verdict(sim.seed(), sim.trace(), sim.steps(), reached[0], List.copyOf(broken));
    }

    /** A send that notes what it got in: refused (closed) is fine, accepted after the collection is not. */
    // =====================================================================================
    // A deadline racing the function's start
    // =====================================================================================

    /**
     * Core 0 makes a waited call to core 1 with a seeded deadline (20 ns to 3 us of virtual time)
     * while core 1 runs a task through a seeded number of instruction boundaries, where it may
     * take the call. Property: the function runs at most once, and the caller's report agrees:
     * it returned and the function ran; or core 1 is reported cancelled and it never ran (checked
     * after a later call to core 1, by which time the first is off its queue); or reported ran or
     * running and it ran once. Reached: the deadline passed before the call was answered.
     */
    static Verdict deadlineRacingStart(final Simulation sim) throws Exception {
        final SplittableRandom r = new SplittableRandom(sim.seed() ^ 0xDEAD_11E5L);
        final int busy = r.nextInt(30);
        final long deadline = 20 + r.nextInt(3_000);
        final List<String> broken = Collections.synchronizedList(new ArrayList<>());
        final Machine m = Machine.builder().name("explore-deadline-" + sim.seed()).cores(2).simulation(sim).build().start();
        boolean reached = false;
        try {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(1), Broadcast.flat());
            final SmpCall timed = smp.withDeadline(Duration.ofNanos(deadline));
            final int[] ran = new int[1]; // written by core 1's function, read after the later call: ordered by its answer
            final Object[] report = new Object[1];
            sim.run(() -> {
                final CompletableFuture<?> worker = m.core(1).submit(() -> {
                    for (int i = 0; i < busy; i++) {
                        Core.current().checkpoint();
                    }
                });
                final CompletableFuture<?> caller = m.core(0).submit(() -> {
                    try {
                        timed.run(1, cpu -> ran[0]++);
                        report[0] = "returned";
                    } catch (CallTimeoutException e) {
                        report[0] = e;
                    }
                });
                sim.await(caller);
                sim.await(worker);
                sim.await(m.core(0).submit(() -> smp.run(1, cpu -> { }))); // core 1 took everything before it
                return null;
            });
            if (report[0] instanceof CallTimeoutException e) {
                reached = true;
                final boolean cancelled = e.cancelled().contains(1);
                if (cancelled == (e.ran().contains(1) || e.running().contains(1))) {
                    broken.add("core 1 is both or neither cancelled and ran/running: " + e.getMessage());
                }
                if (ran[0] != (cancelled ? 0 : 1)) {
                    broken.add("reported " + (cancelled ? "cancelled" : "ran or running") + " but ran " + ran[0] + " times");
                }
            } else if (ran[0] != 1) {
                broken.add("the call returned but its function ran " + ran[0] + " times");
            }
        } catch (SimulationException | ExecutionException e) {
            broken.add("the run failed: " + e);
        } finally {
            m.shutdown(Duration.ofSeconds(5));
        }
        return new Verdict(sim.seed(), sim.trace(), sim.steps(), reached, List.copyOf(broken));
    }

    private static void send(final InterruptController ic, final int cpu, final Vector v, final Object payload,
                             final List<Object> accepted, final boolean[] collected, final List<String> broken) {
        try {
            ic.send(cpu, v, payload);
        } catch (MachineClosedException | MailboxFullException refused) {
            return; // nothing was queued
        }
        accepted.add(payload);
        if (collected[0]) {
            broken.add(payload + " was accepted after close() returned");
        }
    }
}
