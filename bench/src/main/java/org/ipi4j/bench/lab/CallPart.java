package org.ipi4j.bench.lab;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.HdrHistogram.Histogram;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.bench.SpaceRig;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.ipi4j.mm.ShootdownStats;
import org.ipi4j.observability.Percentiles;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/**
 * The machine-level parts: waited cross-core calls to every core (flat, serial, tree), one-page
 * shootdowns, and an unmap storm page by page against one gather. Cores park when idle; every
 * repeat builds a fresh machine.
 */
final class CallPart {
    private CallPart() {
    }

    static Result calls(final int n, final Broadcast shape, final Settings s, final Sink sink) throws IOException {
        final Result r = new Result("smp", "call " + shape + " to " + n + " cores", "ipi4j", "floor-park");
        r.info().put("cores", n);
        r.info().put("shape", shape.toString());
        r.info().put("oversubscribed", n + 1 > Machine.hostCpus());
        final Histogram all = new Histogram(3);
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (Machine m = Machine.builder().name("lab-smp").cores(n).idlePolicy(IdlePolicy.park())
                    .pinning(Pinning.BEST_EFFORT).build().start()) {
                final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), shape);
                final CpuSet cpus = CpuSet.firstN(n);
                for (int i = 0; i < s.callCount() / 5; i++) {
                    smp.run(cpus, null, cpu -> { }, shape);
                }
                final Histogram h = new Histogram(3);
                for (int i = 0; i < s.callCount(); i++) {
                    final long t = System.nanoTime();
                    smp.run(cpus, null, cpu -> { }, shape);
                    h.recordValue(System.nanoTime() - t);
                }
                final var probe = smp.runAsync(cpus, null, cpu -> { }, shape);
                probe.join();
                r.info().put("rounds", probe.rounds());
                final Map<String, Double> metrics = new LinkedHashMap<>();
                RoundTripPart.put(metrics, "call", h);
                metrics.put("samples", (double) s.callCount());
                r.addRepeat(metrics);
                all.add(h);
                sink.histogram(r.name(), rep, "call", h);
            }
        }
        r.distributions().put("call", Distribution.of(all));
        return r;
    }

    static Result shootdown(final int n, final Settings s, final Sink sink) throws Exception {
        final Result r = new Result("shootdown", "shootdown 1 page on " + n + " cores", "ipi4j", "floor-park");
        r.info().put("cores", n);
        r.info().put("oversubscribed", n + 1 > Machine.hostCpus());
        final Histogram all = new Histogram(3);
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (SpaceRig rig = new SpaceRig("lab-mm", n, Broadcast.flat())) {
                final AddressSpace as = rig.as;
                final Histogram h = new Histogram(3);
                for (int i = 0; i < s.shootdownCount(); i++) {
                    final long t = System.nanoTime();
                    as.protect(0, 1, Pte.READ);
                    h.recordValue(System.nanoTime() - t);
                    as.protect(0, 1, Pte.READ | Pte.WRITE);
                }
                final ShootdownStats st = as.stats();
                final Map<String, Double> m = new LinkedHashMap<>();
                RoundTripPart.put(m, "revoke", h);
                put(m, "window", st.window());
                put(m, "delivery", st.delivery());
                m.put("irqoff_delay_p99_ns", (double) st.irqOffDelay().p99());
                put(m, "handler", st.handler());
                m.put("storm_cost", st.stormCost());
                m.put("stale_after_return", (double) st.violations());
                m.put("samples", (double) s.shootdownCount());
                r.addRepeat(m);
                all.add(h);
                sink.histogram(r.name(), rep, "revoke", h);
            }
        }
        r.distributions().put("revoke", Distribution.of(all));
        return r;
    }

    static Result storm(final boolean batched, final Settings s) throws Exception {
        final int n = 4;
        final Result r = new Result("storm", "unmap storm " + (batched ? "batched (one gather)" : "page by page"),
            "ipi4j", null);
        r.info().put("cores", n);
        r.info().put("pages", SpaceRig.PAGES);
        r.info().put("oversubscribed", n + 1 > Machine.hostCpus());
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (SpaceRig rig = new SpaceRig("lab-mm", n, Broadcast.flat())) {
                final long ipis0 = rig.smp.ipisSent();
                final long t = System.nanoTime();
                for (int i = 0; i < s.stormCount(); i++) {
                    if (batched) {
                        rig.revokeAllBatched();
                    } else {
                        rig.revokeAllPerPage();
                    }
                    rig.restore();
                }
                final double secs = (System.nanoTime() - t) / 1e9;
                final ShootdownStats st = rig.as.stats();
                final Map<String, Double> m = new LinkedHashMap<>();
                m.put("shootdowns", (double) st.shootdowns());
                m.put("call_ipis", (double) (rig.smp.ipisSent() - ipis0));
                m.put("pages_per_s", s.stormCount() * SpaceRig.PAGES / secs);
                m.put("full_flushes", (double) st.fullFlushes());
                m.put("storms", (double) s.stormCount());
                r.addRepeat(m);
            }
        }
        return r;
    }

    private static void put(final Map<String, Double> m, final String prefix, final Percentiles p) {
        m.put(prefix + "_p50_ns", (double) p.p50());
        m.put(prefix + "_p99_ns", (double) p.p99());
    }
}
