package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.MmuGather;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.SmpCall;

/**
 * Measures on this host what the simulation's {@code CostModel} needs, and derives each of its
 * figures from the measurements by a formula (each one is written where it is computed, in
 * {@link Figures}). The probes run as interleaved repeats: every repeat runs each probe once, in
 * a fresh random order, and a figure is the median over repeats of that probe's median sample,
 * so a speed regime of the host falls on every probe alike.
 *
 * <p>The probes, all on the host's real threads through ipi4j's real code:
 * <ul>
 *   <li>the core-to-core matrix ({@link CoreToCore}): the one-way hop per distance;</li>
 *   <li>a doorbell ping-pong between two cores pinned one to each of two host CPUs, spinning and
 *       parking when idle, each with the sender's own time in the send call (the initiator-side
 *       cost of a send);</li>
 *   <li>the TLB handler time (ipi4j's {@code ShootdownStats.handler}) of a one-page and of a
 *       full flush, on a one-core machine;</li>
 *   <li>a park/unpark hand-off between two threads pinned to one host CPU: what reaching a
 *       thread that shares a CPU with a running one costs (oversubscription);</li>
 *   <li>one round of {@code Thread.onSpinWait}.</li>
 * </ul>
 * Not thread-safe: one calibration at a time (it uses the host's CPUs while it runs).
 */
final class Calibration {
    private static final Vector PING = Vector.of(0x40);
    private static final Vector PONG = Vector.of(0x41);
    private static final int FULL_PAGES = 64;

    private Calibration() {
    }

    /**
     * The medians measured, in nanoseconds ({@code NaN} where a probe could not run, e.g. no pinning).
     *
     * @param hop           one-way core-to-core latency at the host's one distance (CoreToCore)
     * @param pingSpinRtt   doorbell ping-pong between two spinning cores, one per host CPU
     * @param pingParkRtt   doorbell ping-pong between two parking cores, one per host CPU
     * @param sendSpinning  the sender's time in the send call, target spinning
     * @param sendParked    the sender's time in the send call, target parked (it unparks the target)
     * @param flushOnePage  TLB handler time of a one-page flush
     * @param flushFull     TLB handler time of a full flush
     * @param sameCpuHandOff one-way park/unpark hand-off between two threads pinned to one host CPU
     * @param spinRound     one {@code Thread.onSpinWait}
     * @param hostCpus      the host's CPUs
     */
    record Figures(double hop, double pingSpinRtt, double pingParkRtt, double sendSpinning, double sendParked,
                   double flushOnePage, double flushFull, double sameCpuHandOff, double spinRound, int hostCpus) {

        /** send = the sender's time in the send call to a running (spinning) target: the raise alone. */
        long send() {
            return nonNegative(sendSpinning);
        }

        /**
         * unpark = sendParked - sendSpinning: what the send call costs its sender more when the
         * target is parked (the futex wake); the simulation charges it at every wake-up of a
         * parked core, a send's and a call's acknowledgement's alike.
         */
        long unpark() {
            return nonNegative(sendParked - sendSpinning);
        }

        /** latency (one distance) = the core-to-core hop. */
        long latency() {
            return nonNegative(hop);
        }

        /**
         * interrupt = pingSpinRtt / 2 - sendSpinning - hop: each half of a ping-pong between
         * spinning cores is a send, the hop, and the entry into the handler that sends back.
         */
        long interrupt() {
            return nonNegative(pingSpinRtt / 2 - sendSpinning - hop);
        }

        /**
         * wake (parked) = pingParkRtt / 2 - sendParked - hop - interrupt: each half of a ping-pong
         * between parking cores is a send and its unpark (sendParked), the hop, the parked core's
         * way back to running, and the entry.
         */
        long wake() {
            return nonNegative(pingParkRtt / 2 - sendParked - hop - interrupt());
        }

        /** flush.page = the handler time of a one-page flush (its fixed part and one invalidation). */
        long flushPage() {
            return nonNegative(flushOnePage);
        }

        /** flush.all = the handler time of a full flush. */
        long flushAll() {
            return nonNegative(flushFull);
        }

        /** spin = one Thread.onSpinWait round, at least 1 ns (the model's floor). */
        long spin() {
            return Math.max(1, nonNegative(spinRound));
        }

        /** contextSwitch = the one-way hand-off between two threads on one host CPU (0 if it could not be pinned). */
        long contextSwitch() {
            return nonNegative(sameCpuHandOff);
        }

        /** {@return the figures by name, for a report} */
        Map<String, Double> toMap() {
            final Map<String, Double> m = new LinkedHashMap<>();
            m.put("hop_ns", hop);
            m.put("ping_spin_rtt_ns", pingSpinRtt);
            m.put("ping_park_rtt_ns", pingParkRtt);
            m.put("send_spinning_ns", sendSpinning);
            m.put("send_parked_ns", sendParked);
            m.put("flush_one_page_ns", flushOnePage);
            m.put("flush_full_ns", flushFull);
            m.put("same_cpu_handoff_ns", sameCpuHandOff);
            m.put("spin_round_ns", spinRound);
            m.put("host_cpus", (double) hostCpus);
            return m;
        }

        private static long nonNegative(final double v) {
            return Double.isNaN(v) ? 0 : Math.max(0, Math.round(v));
        }
    }

    /** One probe's medians for one repeat. */
    private interface Probe {
        double[] run(int samples) throws Exception;
    }

    /**
     * Measures the figures.
     *
     * @param repeats interleaved repeats, at least 1
     * @param samples samples per probe and repeat, at least 10
     * @param seed the order of the probes in each repeat
     * @param hop the one-way hop, from a core-to-core matrix measured beforehand
     * @return the medians over repeats
     */
    static Figures measure(final int repeats, final int samples, final long seed, final double hop) throws Exception {
        if (repeats < 1 || samples < 10) {
            throw new IllegalArgumentException("calibration needs at least 1 repeat and 10 samples, not " + repeats
                + " and " + samples);
        }
        final Map<String, Probe> probes = new LinkedHashMap<>();
        probes.put("ping-spin", n -> pingPong(false, n));
        probes.put("ping-park", n -> pingPong(true, n));
        probes.put("flush", Calibration::flush);
        probes.put("same-cpu", n -> new double[] {sameCpuHandOff(n)});
        probes.put("spin", n -> new double[] {spinRound(n)});
        final Map<String, List<double[]>> seen = new LinkedHashMap<>();
        final Random random = new Random(seed);
        for (int rep = 0; rep < repeats; rep++) {
            final List<String> order = new ArrayList<>(probes.keySet());
            Collections.shuffle(order, random);
            for (final String p : order) {
                seen.computeIfAbsent(p, k -> new ArrayList<>()).add(probes.get(p).run(samples));
            }
        }
        final double[] spin = medians(seen.get("ping-spin"));
        final double[] park = medians(seen.get("ping-park"));
        final double[] flush = medians(seen.get("flush"));
        return new Figures(hop, spin[0], park[0], spin[1], park[1], flush[0], flush[1], medians(seen.get("same-cpu"))[0],
            medians(seen.get("spin"))[0], Machine.hostCpus());
    }

    /**
     * The one-way latency per {@link Topology} distance (index 1 to 3) of the topology the matrix
     * implies: the median over the pairs at that distance; NaN where no pair is.
     */
    static double[] hopByDistance(final CoreToCore.Matrix m) {
        final Topology t = CoreToCore.topology(m);
        final List<List<Double>> by = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int a = 0; a < m.cpus(); a++) {
            for (int b = a + 1; b < m.cpus(); b++) {
                by.get(t.distance(a, b)).add(m.oneWayNanos()[a][b]);
            }
        }
        final double[] out = new double[4];
        for (int d = 0; d < 4; d++) {
            out[d] = median(by.get(d).stream().mapToDouble(Double::doubleValue).toArray());
        }
        return out;
    }

    /** The median over repeats of each column. */
    static double[] medians(final List<double[]> rows) {
        final double[] out = new double[rows.get(0).length];
        for (int c = 0; c < out.length; c++) {
            final int col = c;
            out[c] = median(rows.stream().mapToDouble(r -> r[col]).filter(v -> !Double.isNaN(v)).toArray());
        }
        return out;
    }

    /** {@return the median of {@code v}, NaN for none} */
    static double median(final double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        final double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The acknowledgement a doorbell's handler writes; its own object so each probe has a fresh one. */
    private static final class Ack {
        volatile long value; // written by the handler, spun on by the sender: the round trip's end
    }

    /**
     * Doorbell ping-pong between the two cores of a machine pinned one to each of two host CPUs
     * ({@link RoundRobinPinner}, as the prediction places its cores), idling by parking (or
     * spinning): core 0 sends to core 1, whose handler sends back, and core 0 waits for that as
     * an idle core does ({@code Core.waitUntil}). {median round trip, median time of core 0 in
     * its send call}.
     */
    private static double[] pingPong(final boolean parks, final int samples) throws Exception {
        final Ack ack = new Ack();
        try (Machine m = Machine.builder().name("calibrate").cores(2).idlePolicy(parks ? IdlePolicy.park()
                : IdlePolicy.spin()).pinning(Pinning.BEST_EFFORT).pinner(new RoundRobinPinner()).build().start()) {
            final long[] requested = new long[1]; // plain: each IPI's delivery is the happens-before edge
            m.interrupts().register(PING, irq -> m.interrupts().send(0, PONG, null));
            m.interrupts().register(PONG, irq -> ack.value = requested[0]);
            return m.core(0).submit(() -> {
                final long[] rtt = new long[samples];
                final long[] send = new long[samples];
                final Core self = m.core(0);
                for (int i = -samples / 5; i < samples; i++) { // the first fifth warms up
                    final long seq = i + samples + 1;
                    requested[0] = seq;
                    final long t0 = System.nanoTime();
                    m.interrupts().send(1, PING, null);
                    final long t1 = System.nanoTime();
                    self.waitUntil(() -> ack.value == seq, Long.MAX_VALUE);
                    final long t2 = System.nanoTime();
                    if (i >= 0) {
                        rtt[i] = t2 - t0;
                        send[i] = t1 - t0;
                    }
                }
                return new double[] {median(rtt), median(send)};
            }).get();
        }
    }

    private static double median(final long[] v) {
        return median(Arrays.stream(v).asDoubleStream().toArray());
    }

    /**
     * The handler times of one-page and full flushes on core 0 of a one-core machine, each kind in
     * its own address space (the statistics are per space): {one page, full}.
     */
    private static double[] flush(final int samples) throws Exception {
        try (Machine m = Machine.builder().name("calibrate-mm").cores(1).idlePolicy(IdlePolicy.park())
                .pinning(Pinning.NONE).memoryWords(FULL_PAGES * 64).build().start()) {
            final Mmu mmu = Mmu.builder(SmpCall.install(m)).build();
            final AddressSpace one = space(m, mmu);
            final AddressSpace full = space(m, mmu);
            for (int i = 0; i < samples; i++) {
                one.protect(0, 1, Pte.READ);
                one.protect(0, 1, Pte.READ | Pte.WRITE); // adding a right: no flush
                try (MmuGather g = full.gather()) {
                    g.protect(0, FULL_PAGES, Pte.READ); // above the ceiling: a full flush
                }
                full.protect(0, FULL_PAGES, Pte.READ | Pte.WRITE);
            }
            return new double[] {one.stats().handler().p50(), full.stats().handler().p50()};
        }
    }

    private static AddressSpace space(final Machine m, final Mmu mmu) throws Exception {
        final AddressSpace as = mmu.newAddressSpace(FULL_PAGES);
        for (int vpn = 0; vpn < FULL_PAGES; vpn++) {
            as.map(vpn, vpn, Pte.READ | Pte.WRITE);
        }
        m.core(0).submit(() -> {
            mmu.switchTo(as);
            mmu.read(as, 0);
        }).get();
        return as;
    }

    /**
     * The one-way park/unpark hand-off between two threads pinned to host CPU 0: half the median
     * round trip. NaN if the threads could not be pinned there (then it is not that figure).
     */
    static double sameCpuHandOff(final int samples) throws InterruptedException {
        final Ack ping = new Ack();
        final Ack pong = new Ack();
        final boolean[] pinned = new boolean[2];
        final Thread[] caller = new Thread[1];
        final Thread responder = new Thread(() -> {
            pinned[1] = CoreToCore.pin(0); // false where pinning is refused: the figure is reported as not measured
            long seen = 0;
            while (seen >= 0) {
                final long v = ping.value;
                if (v != seen) {
                    seen = v;
                    pong.value = v; // partner: the caller's read of pong after its park
                    LockSupport.unpark(caller[0]);
                } else {
                    LockSupport.park();
                }
            }
        }, "calibrate-same-cpu-responder");
        responder.setDaemon(true);
        final long[] rtt = new long[samples];
        final Thread c = new Thread(() -> {
            pinned[0] = CoreToCore.pin(0);
            for (int i = -samples / 5; i < samples; i++) {
                final long seq = i + samples + 1;
                final long t0 = System.nanoTime();
                ping.value = seq; // partner: the responder's read of ping after its park
                LockSupport.unpark(responder);
                while (pong.value != seq) {
                    LockSupport.park();
                }
                if (i >= 0) {
                    rtt[i] = System.nanoTime() - t0;
                }
            }
            ping.value = -1; // stops the responder
            LockSupport.unpark(responder);
        }, "calibrate-same-cpu-caller");
        caller[0] = c;
        responder.start();
        c.start();
        c.join();
        responder.join(10_000);
        return pinned[0] && pinned[1] ? median(rtt) / 2 : Double.NaN;
    }


    /** The median time of one Thread.onSpinWait, over batches of 1000. */
    private static double spinRound(final int samples) {
        final long[] t = new long[samples];
        for (int i = 0; i < samples; i++) {
            final long t0 = System.nanoTime();
            for (int j = 0; j < 1000; j++) {
                Thread.onSpinWait();
            }
            t[i] = System.nanoTime() - t0;
        }
        return median(t) / 1000;
    }
}
