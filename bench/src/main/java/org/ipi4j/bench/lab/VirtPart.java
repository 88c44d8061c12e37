package org.ipi4j.bench.lab;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.HdrHistogram.Histogram;
import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.Pinning;
import org.ipi4j.apic.LocalApic;
import org.ipi4j.bench.SpaceRig;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.Pte;
import org.ipi4j.mm.ShootdownStats;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/**
 * The virtualization part: each mechanism next to the plain path in the same run. Preempted cores
 * are preempted for {@link #PREEMPTION} before each measured operation, and the lab waits until
 * they have stopped.
 */
final class VirtPart {
    /** How long a preempted core stays off: a host time slice, short enough to measure often. */
    static final Duration PREEMPTION = Duration.ofMillis(1);

    private VirtPart() {
    }

    private static Paravirt[] pv(final boolean on) {
        return on ? Paravirt.values() : new Paravirt[0];
    }

    private static int samples(final Settings s) {
        return s.smoke() ? 20 : 400;
    }

    /** Waits until {@code c} has taken its preemption number {@code n} (it may already be running again). */
    static void waitPreempted(final Core c, final long n) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (c.vcpu().preemptions() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("core " + c.id() + " did not stop for its preemption: " + c.describe());
            }
            Thread.onSpinWait();
        }
    }

    /** Waits until {@code c} runs again after a preemption (the next one must be a new time slice). */
    static void waitRunning(final Core c) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (c.isPreempted()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("core " + c.id() + " did not resume: " + c.describe());
            }
            Thread.onSpinWait();
        }
    }

    /** One-page shootdowns on 4 cores with {@code k} of them preempted, PV TLB flush on or off. */
    static Result pvFlush(final int k, final boolean on, final Settings s, final Sink sink) throws Exception {
        final int n = 4;
        final Result r = new Result("virt", "shootdown, " + k + " of " + n + " cores preempted, PV " + (on ? "on" : "off"),
            "ipi4j", "floor-park");
        r.info().put("cores", n);
        r.info().put("preempted", k);
        r.info().put("preemption", PREEMPTION.toString());
        r.info().put("oversubscribed", n + 1 > Machine.hostCpus());
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (SpaceRig rig = new SpaceRig("lab-pv", n, Broadcast.flat(), 0, pv(on))) {
                final Histogram h = new Histogram(3);
                for (int i = 0; i < samples(s); i++) {
                    for (int c = 1; c <= k; c++) {
                        rig.machine.core(c).preempt(PREEMPTION);
                    }
                    for (int c = 1; c <= k; c++) {
                        waitPreempted(rig.machine.core(c), i + 1);
                    }
                    final long t = System.nanoTime();
                    rig.as.protect(0, 1, Pte.READ);
                    h.recordValue(System.nanoTime() - t);
                    rig.as.protect(0, 1, Pte.READ | Pte.WRITE);
                    for (int c = 1; c <= k; c++) {
                        waitRunning(rig.machine.core(c));
                    }
                }
                final ShootdownStats st = rig.as.stats();
                final Map<String, Double> m = new LinkedHashMap<>();
                RoundTripPart.put(m, "op", h);
                m.put("pv_flushes_per_op", (double) rig.mmu.pvFlushes() / samples(s));
                m.put("stale_after_return", (double) st.violations());
                m.put("samples", (double) samples(s));
                r.addRepeat(m);
                sink.histogram(r.name(), rep, "op", h);
            }
        }
        return r;
    }

    /** One-page shootdowns on {@code n} cores: IPIs, or broadcast invalidation (global ASID). */
    static Result broadcast(final int n, final boolean broadcast, final Settings s, final Sink sink) throws Exception {
        final Result r = new Result("virt", "shootdown on " + n + " cores, " + (broadcast ? "broadcast (INVLPGB)" : "IPIs"),
            "ipi4j", "floor-park");
        r.info().put("cores", n);
        r.info().put("oversubscribed", n + 1 > Machine.hostCpus());
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (SpaceRig rig = new SpaceRig("lab-bc", n, Broadcast.flat(), broadcast ? 1 : 0, Paravirt.values())) {
                rig.as.protect(SpaceRig.PAGES - 1, 1, Pte.READ); // with broadcast: the transition
                final long ipis0 = rig.smp.ipisSent();
                final ShootdownStats before = rig.as.stats();
                final Histogram h = new Histogram(3);
                for (int i = 0; i < s.shootdownCount(); i++) {
                    final long t = System.nanoTime();
                    rig.as.protect(0, 1, Pte.READ);
                    h.recordValue(System.nanoTime() - t);
                    rig.as.protect(0, 1, Pte.READ | Pte.WRITE);
                }
                final ShootdownStats st = rig.as.stats();
                final long shootdowns = st.shootdowns() - before.shootdowns();
                final Map<String, Double> m = new LinkedHashMap<>();
                RoundTripPart.put(m, "op", h);
                m.put("ipis_per_op", (double) (rig.smp.ipisSent() - ipis0) / shootdowns);
                // Core-time stalled per shootdown: the targets' handlers plus the initiator's wait.
                m.put("stalled_per_op_ns", (double) (st.stalledCoreNanos() - before.stalledCoreNanos()) / shootdowns);
                m.put("stale_after_return", (double) st.violations());
                m.put("samples", (double) s.shootdownCount());
                r.addRepeat(m);
                sink.histogram(r.name(), rep, "op", h);
            }
        }
        return r;
    }

    /** Bursts of three vectors to a parked core: how many signals each burst costs, per mode. */
    static Result posted(final DeliveryMode mode, final boolean preempted, final Settings s, final Sink sink)
            throws Exception {
        final Result r = new Result("virt", "3-vector burst to a " + (preempted ? "preempted" : "parked") + " core, "
            + mode, "ipi4j", preempted ? null : "floor-park");
        final Vector[] vs = {Vector.of(0x40), Vector.of(0x41), Vector.of(0x42)};
        final int bursts = s.smoke() ? 100 : preempted ? 1_000 : 5_000;
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (Machine m = Machine.builder().name("lab-posted").cores(1).idlePolicy(IdlePolicy.park())
                    .pinning(Pinning.NONE).deliveryMode(mode).build().start()) {
                final AtomicInteger handled = new AtomicInteger();
                for (final Vector v : vs) {
                    m.interrupts().register(v, irq -> handled.incrementAndGet());
                }
                final Core c = m.core(0);
                final LocalApic apic = m.interrupts().apic(0);
                final long signals0 = c.stats().unparkWakeups() + c.stats().elidedWakeups();
                final long unparks0 = c.stats().unparkWakeups();
                final long suppressed0 = apic.suppressedNotifications();
                final Histogram h = new Histogram(3);
                for (int i = 0; i < bursts; i++) {
                    final int want = handled.get() + vs.length;
                    if (preempted) {
                        c.preemptUntilResumed();
                        waitPreempted(c, i + 1);
                    }
                    final long t = System.nanoTime();
                    for (final Vector v : vs) {
                        m.interrupts().send(0, v, null);
                    }
                    final long sent = System.nanoTime() - t;
                    if (preempted) {
                        c.resume();
                    }
                    while (handled.get() < want) {
                        Thread.onSpinWait();
                    }
                    // A preempted target answers only after its resume: record the senders' cost.
                    h.recordValue(preempted ? sent : System.nanoTime() - t);
                }
                final Map<String, Double> metrics = new LinkedHashMap<>();
                RoundTripPart.put(metrics, "op", h);
                metrics.put("signals_per_burst",
                    (double) (c.stats().unparkWakeups() + c.stats().elidedWakeups() - signals0) / bursts);
                metrics.put("unparks_per_burst", (double) (c.stats().unparkWakeups() - unparks0) / bursts);
                metrics.put("suppressed_per_burst", (double) (apic.suppressedNotifications() - suppressed0) / bursts);
                metrics.put("samples", (double) bursts);
                r.addRepeat(metrics);
                sink.histogram(r.name(), rep, "op", h);
            }
        }
        return r;
    }

    /** A waited call to every other core: emulated VM exits per call, with and without PV send-IPI. */
    static Result sendIpi(final int n, final boolean on, final Settings s) {
        final Result r = new Result("virt", "call to " + n + " cores, PV send-IPI " + (on ? "on" : "off"), "ipi4j", null);
        r.info().put("cores", n);
        final int calls = s.smoke() ? 50 : 2_000;
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (Machine m = Machine.builder().name("lab-sendipi").cores(n).idlePolicy(IdlePolicy.park())
                    .pinning(Pinning.NONE).paravirt(on ? Paravirt.values() : new Paravirt[] {Paravirt.TLB_FLUSH})
                    .build().start()) {
                final SmpCall smp = SmpCall.install(m);
                final long exits0 = m.interrupts().vmExits();
                final Histogram h = new Histogram(3);
                for (int i = 0; i < calls; i++) {
                    final long t = System.nanoTime();
                    smp.onOtherCores(cpu -> { });
                    h.recordValue(System.nanoTime() - t);
                }
                final Map<String, Double> metrics = new LinkedHashMap<>();
                RoundTripPart.put(metrics, "op", h);
                metrics.put("vm_exits_per_call", (double) (m.interrupts().vmExits() - exits0) / calls);
                metrics.put("samples", (double) calls);
                r.addRepeat(metrics);
            }
        }
        return r;
    }

    /** A waited call to a core preempted just before it: with directed yield, or waiting the slice out. */
    static Result yieldToPreempted(final boolean on, final Settings s, final Sink sink) throws Exception {
        final Result r = new Result("virt", "call to a preempted core, directed yield " + (on ? "on" : "off"),
            "ipi4j", "floor-park");
        r.info().put("preemption", PREEMPTION.toString());
        for (int rep = 0; rep < s.repeat(); rep++) {
            try (Machine m = Machine.builder().name("lab-yield").cores(2).idlePolicy(IdlePolicy.park())
                    .pinning(Pinning.NONE).paravirt(on ? Paravirt.values() : new Paravirt[0]).build().start()) {
                final SmpCall smp = SmpCall.install(m);
                final Histogram h = new Histogram(3);
                for (int i = 0; i < samples(s); i++) {
                    m.core(1).preempt(PREEMPTION);
                    waitPreempted(m.core(1), i + 1);
                    final long t = System.nanoTime();
                    smp.run(1, cpu -> { });
                    h.recordValue(System.nanoTime() - t);
                    waitRunning(m.core(1));
                }
                final Map<String, Double> metrics = new LinkedHashMap<>();
                RoundTripPart.put(metrics, "op", h);
                metrics.put("yields_per_op", (double) smp.yieldsToPreempted() / samples(s));
                metrics.put("samples", (double) samples(s));
                r.addRepeat(metrics);
                sink.histogram(r.name(), rep, "op", h);
            }
        }
        return r;
    }
}
