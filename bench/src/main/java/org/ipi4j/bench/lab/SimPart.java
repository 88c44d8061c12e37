package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import org.ipi4j.Machine;
import org.ipi4j.bench.SpaceRig;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.MmuGather;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.sim.CostModel;
import org.ipi4j.sim.Simulation;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/**
 * The simulated part: the unchanged SmpCall and Mmu code on simulated machines of up to 1024
 * cores, in virtual time under a given {@link CostModel} (the lab's calibrated one, or a file's):
 * {@code onEachCore} and a one-page shootdown from core 0 per broadcast shape, and an unmap storm
 * with and without batching; {@link Prediction} holds them against the host. Every figure is
 * deterministic for its seed and model (no jitter): repeats agree exactly.
 */
final class SimPart {
    /** The shapes compared. */
    static final List<Broadcast> SHAPES = List.of(Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2),
        Broadcast.tree(4), Broadcast.tree(8), Broadcast.topology(), Broadcast.auto());
    /** Pages of the storm, as the real lab's (above the 33-page ceiling: the batched storm is one full flush per target). */
    static final int STORM_PAGES = SpaceRig.PAGES;
    private static final int PAGE = 64;

    private SimPart() {
    }

    /** A simulated machine of {@code n} cores, idle cores parked (as the simulation models them). */
    private static Machine machine(final String name, final int n, final Simulation sim, final int pages) {
        return Machine.builder().name(name).cores(n).simulation(sim).idlePolicy(IdlePolicy.park())
            .memoryWords(Math.max(4096, pages * PAGE)).build().start();
    }

    private static Result result(final String op, final int n, final String what, final Simulation sim) {
        final Result r = new Result("sim", "sim " + op + " " + what + " on " + n + " cores", "simulated", null);
        r.info().put("op", op);
        r.info().put("cores", n);
        r.info().put("shape", what);
        r.info().put("seed", sim.seed());
        r.info().put("cost model", sim.costs().toString());
        return r;
    }

    /** Virtual nanoseconds of one call of {@code op} on core 0. */
    private static long onCore0(final Simulation sim, final Machine m, final Callable<Void> op) throws Exception {
        return sim.run(() -> sim.await(m.core(0).submit(() -> {
            final long t0 = sim.nanoTime();
            op.call();
            return sim.nanoTime() - t0;
        })));
    }

    /**
     * Repeats of {@code op} on core 0: virtual time, IPIs, switches and real time per call;
     * {@code restore} (unmeasured, may be null) runs on core 0 after each.
     */
    private static void measure(final Result r, final Settings s, final Simulation sim, final Machine m, final SmpCall smp,
                                final Callable<Void> op, final Callable<Void> restore) throws Exception {
        for (int rep = 0; rep < s.repeat(); rep++) {
            final long ipis = smp.ipisSent();
            final long switches = sim.switches();
            final long real = System.nanoTime();
            final long virtual = onCore0(sim, m, op);
            final Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("virtual_ns", (double) virtual);
            metrics.put("sends", (double) (smp.ipisSent() - ipis)); // IPIs of the call itself, not the harness's
            metrics.put("switches", (double) (sim.switches() - switches));
            metrics.put("real_ms", (System.nanoTime() - real) / 1e6);
            r.addRepeat(metrics);
            if (restore != null) {
                onCore0(sim, m, restore);
            }
        }
    }

    /** Puts {@code value} into every repeat of {@code r}. */
    private static void putAll(final Result r, final String metric, final double value) {
        r.repeats().forEach(m -> m.put(metric, value));
    }

    static Result calls(final int n, final Broadcast shape, final Settings s, final CostModel model) throws Exception {
        final Simulation sim = Simulation.builder().seed(s.seed()).costModel(model).build();
        final Result r = result("onEachCore", n, shape.toString(), sim);
        r.info().put("rounds", shape.rounds(n - 1));
        try (Machine m = machine("sim-smp", n, sim, 0)) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), shape);
            final CpuSet all = CpuSet.firstN(n);
            measure(r, s, sim, m, smp, () -> {
                smp.run(all, null, cpu -> { }, shape);
                return null;
            }, null);
        }
        return r;
    }

    /** A simulated machine whose cores all run one space with page 0 in their TLBs. */
    private record Rig(Simulation sim, Machine machine, SmpCall smp, Mmu mmu, AddressSpace as) implements AutoCloseable {
        static Rig of(final int n, final Broadcast shape, final Settings s, final int pages, final CostModel model)
                throws Exception {
            final Simulation sim = Simulation.builder().seed(s.seed()).costModel(model).build();
            final Machine m = SimPart.machine("sim-mm", n, sim, pages);
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), shape);
            final Mmu mmu = Mmu.builder(smp).pageWords(PAGE).broadcast(shape).batchWindow(Duration.ofMinutes(1))
                .detectStale(true).build();
            final AddressSpace as = mmu.newAddressSpace(pages);
            sim.run(() -> {
                for (int vpn = 0; vpn < pages; vpn++) {
                    as.map(vpn, vpn, Pte.READ | Pte.WRITE);
                }
                final List<CompletableFuture<Void>> warm = new ArrayList<>();
                for (int c = 0; c < n; c++) {
                    warm.add(m.core(c).submit(() -> {
                        mmu.switchTo(as);
                        mmu.read(as, 0);
                    }));
                }
                for (final CompletableFuture<Void> f : warm) {
                    sim.await(f);
                }
                return null;
            });
            return new Rig(sim, m, smp, mmu, as);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    static Result shootdown(final int n, final Broadcast shape, final Settings s, final CostModel model) throws Exception {
        try (Rig rig = Rig.of(n, shape, s, 1, model)) {
            final Result r = result("shootdown", n, shape.toString(), rig.sim());
            measure(r, s, rig.sim(), rig.machine(), rig.smp(), () -> {
                rig.as().protect(0, 1, Pte.READ);
                return null;
            }, () -> {
                rig.as().protect(0, 1, Pte.READ | Pte.WRITE); // adding a right: no shootdown
                return null;
            });
            putAll(r, "stale_after_return", rig.as().stats().violations());
            return r;
        }
    }

    static Result storm(final int n, final boolean batched, final Settings s, final CostModel model) throws Exception {
        try (Rig rig = Rig.of(n, Broadcast.flat(), s, STORM_PAGES, model)) {
            final Result r = result("storm", n, batched ? "batched" : "page by page", rig.sim());
            r.info().put("pages", STORM_PAGES);
            final long shootdowns = rig.as().stats().shootdowns();
            final long full = rig.as().stats().fullFlushes();
            measure(r, s, rig.sim(), rig.machine(), rig.smp(), () -> {
                if (batched) {
                    try (MmuGather g = rig.as().gather()) {
                        g.protect(0, STORM_PAGES, Pte.READ);
                    }
                } else {
                    for (int vpn = 0; vpn < STORM_PAGES; vpn++) {
                        rig.as().protect(vpn, 1, Pte.READ);
                    }
                }
                return null;
            }, () -> {
                rig.as().protect(0, STORM_PAGES, Pte.READ | Pte.WRITE);
                return null;
            });
            putAll(r, "shootdowns", (double) (rig.as().stats().shootdowns() - shootdowns) / s.repeat());
            putAll(r, "full_flushes", (double) (rig.as().stats().fullFlushes() - full) / s.repeat());
            return r;
        }
    }

    /**
     * The simulated part's steps: the curves against {@code s.simCores()} and the prediction
     * ({@link Prediction}) under {@code model}, read when each step runs (a calibration earlier in
     * the same run sets it).
     */
    static List<LabRun.Step> steps(final Settings s, final Supplier<CostModel> model) {
        final List<LabRun.Step> steps = new ArrayList<>();
        // The curves model a machine with a CPU per core (hostCpus 0); the prediction, this host.
        final Supplier<CostModel> curves = () -> model.get().toBuilder().hostCpus(0).build();
        for (final String op : new String[] {"onEachCore", "shootdown"}) {
            for (final int n : s.simCores()) {
                for (final Broadcast shape : SimPart.SHAPES) {
                    steps.add(new LabRun.Step("simulated " + op + " " + shape + " on " + n + " cores",
                        () -> op.equals("onEachCore") ? SimPart.calls(n, shape, s, curves.get())
                            : SimPart.shootdown(n, shape, s, curves.get())));
                }
            }
        }
        for (final int n : s.simCores()) {
            for (final boolean batched : new boolean[] {false, true}) {
                steps.add(new LabRun.Step("simulated unmap storm " + (batched ? "batched" : "page by page") + " on "
                    + n + " cores", () -> SimPart.storm(n, batched, s, curves.get())));
            }
        }
        steps.addAll(Prediction.steps(s, model));
        return steps;
    }
}
