package org.ipi4j.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.ShutdownReport;
import org.ipi4j.apic.Faults;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;

/**
 * One randomised, seeded run of the real protocols in a simulation, and the three safety
 * properties checked on it: every cross-core call ran exactly once on each target, no core
 * translated through a revoked entry after the shootdown that revoked it returned, and no wake-up
 * was lost (the run ended without a deadlock and no watchdog had to re-send an IPI).
 * Everything random comes from the seed: the core count, the broadcast shape, the delivery mode,
 * the workload and (in the simulation) the schedule.
 */
final class SafetyScenario {
    static final int PAGE = 16;
    private static final Broadcast[] SHAPES = {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2), Broadcast.topology()};

    /** What one run found. */
    record Verdict(long seed, int cores, Broadcast shape, DeliveryMode mode, long trace, long watchdogResends,
                   long violations, long remoteTargets, long staleInWindow, List<String> broken) {
        boolean safe() {
            return broken.isEmpty();
        }

        @Override
        public String toString() {
            return "seed " + seed + " (" + cores + " cores, " + shape + ", " + mode + "): "
                + (broken.isEmpty() ? "safe" : String.join("; ", broken));
        }
    }

    private SafetyScenario() {
    }

    /** Runs seed {@code seed}; {@code lostWakeups} > 0 injects that many lost wake-ups on core 1 (a negative control). */
    static Verdict run(final long seed, final int lostWakeups) throws Exception {
        final SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        final int cores = 2 + r.nextInt(5);
        final Broadcast shape = SHAPES[r.nextInt(SHAPES.length)];
        final DeliveryMode mode = r.nextBoolean() ? DeliveryMode.PER_VECTOR : DeliveryMode.POSTED;
        final Simulation sim = Simulation.builder().seed(seed).jitter(0.5).interleaving(0.3)
            .costs(CostModel.builder().topology(Topology.of(2, 2)).build()).build();
        final Faults faults = new Faults(cores);
        if (lostWakeups > 0) {
            faults.dropWakeups(1, lostWakeups);
        }
        final List<String> broken = new ArrayList<>();
        final Machine m = Machine.builder().name("sim-" + seed).cores(cores).deliveryMode(mode).simulation(sim)
            .faults(faults).memoryWords(16 * PAGE).build().start();
        final SmpCall smp;
        final AddressSpace as;
        try {
            // A 1 ms (virtual) watchdog: the run takes microseconds, so any re-send means a lost wake-up.
            smp = SmpCall.install(m, Duration.ofMillis(1), shape);
            final Mmu mmu = Mmu.builder(smp).pageWords(PAGE).batchWindow(Duration.ofMinutes(1)).detectStale(true).build();
            as = mmu.newAddressSpace(8);
            for (int vpn = 0; vpn < 4; vpn++) {
                as.map(vpn, vpn + 1, Pte.READ | Pte.WRITE);
            }
            final int rounds = 1 + r.nextInt(3);
            final int readerSteps = 5 + r.nextInt(20);
            sim.run(() -> {
                final List<CompletableFuture<?>> work = new ArrayList<>();
                // Readers: cores 1.. read pages in a loop, taking interrupts at each checkpoint.
                for (int cpu = 1; cpu < cores; cpu++) {
                    final int first = cpu;
                    work.add(m.core(cpu).submit(() -> {
                        mmu.switchTo(as);
                        for (int i = 0; i < readerSteps; i++) {
                            try {
                                mmu.read(as, (long) ((first + i) % 4) * PAGE);
                            } catch (PageFaultException unmapped) {
                                // the page is being remapped: a fault is the right answer
                            }
                            m.timeline().spinWait();
                            Core.current().checkpoint();
                        }
                    }));
                }
                // Core 0: waited broadcasts and shootdowns, checked for exactly-once delivery.
                work.add(m.core(0).submit(() -> {
                    mmu.switchTo(as);
                    for (int round = 0; round < rounds; round++) {
                        exactlyOnce(smp, cores, broken, "core 0 round " + round);
                        final int vpn = round % 4;
                        as.unmap(vpn, 1);
                        as.map(vpn, vpn + 5, Pte.READ | Pte.WRITE);
                    }
                }));
                // Core 1 (if any) calls too, at the same time: two callers, coalescing queues.
                if (cores > 2) {
                    work.add(m.core(1).submit(() -> exactlyOnce(smp, cores, broken, "core 1")));
                }
                // And the outside caller itself.
                exactlyOnce(smp, cores, broken, "the outside caller");
                for (final CompletableFuture<?> f : work) {
                    sim.await(f);
                }
                return null;
            });
            if (as.stats().violations() > 0) {
                broken.add(as.stats().violations() + " translations through a revoked entry after its shootdown returned: "
                    + as.staleAccessLog());
            }
            if (smp.watchdogResends() > 0) {
                broken.add(smp.watchdogResends() + " watchdog re-sends: a wake-up was lost");
            }
        } catch (SimulationException | CallTimeoutException e) {
            broken.add((e instanceof CallTimeoutException ? "a call timed out (a wake-up was lost): " : "") + e.getMessage());
            m.shutdown(Duration.ofSeconds(5));
            return new Verdict(seed, cores, shape, mode, sim.trace(), -1, -1, 0, 0, broken);
        }
        final ShutdownReport report = m.shutdown(Duration.ofSeconds(5));
        if (!report.isClean()) {
            broken.add("unclean shutdown: " + report);
        }
        final var stats = as.stats();
        return new Verdict(seed, cores, shape, mode, sim.trace(), smp.watchdogResends(), stats.violations(),
            stats.remoteTargets(), stats.staleAccesses() - stats.violations(), broken);
    }

    /** A waited onEachCore that counts its runs per core: each must be exactly 1. */
    private static void exactlyOnce(final SmpCall smp, final int cores, final List<String> broken, final String who) {
        final AtomicIntegerArray ran = new AtomicIntegerArray(cores);
        smp.onEachCore(ran::incrementAndGet);
        for (int cpu = 0; cpu < cores; cpu++) {
            if (ran.get(cpu) != 1) {
                synchronized (broken) {
                    broken.add(who + ": the function ran " + ran.get(cpu) + " times on core " + cpu);
                }
            }
        }
    }
}
