package org.ipi4j.smp;

import java.util.ArrayList;
import java.util.List;

import org.ipi4j.interrupts.Topology;
import org.ipi4j.sim.CostModel;

/**
 * What {@link Broadcast#auto()} chooses: for each number of remote targets, the fixed shape whose
 * estimated completion time is the least, computed once per machine, so that a call's choice is
 * an array lookup.
 *
 * <h2>The estimate</h2>
 * It charges what a {@link org.ipi4j.sim.Simulation} charges, on the layout of a call from core 0
 * to cores 1 to n, each parked in its idle loop, with a function that costs nothing:
 * <ul>
 *   <li>a sender pays {@code send} and {@code unpark} (the parked target's wake-up, a price of
 *       the model's, 0 by default) per target it queues, one after another, in target order: the
 *       initiator from time 0, a target once it is in its handler (after its arrival and
 *       {@code interrupt});</li>
 *   <li>a target queued at time t arrives at {@code t + latency(sender, target)} (the hop for
 *       their distance plus {@code wake});</li>
 *   <li>it acknowledges when it has queued all it passes the call to; only the last
 *       acknowledgement wakes the waiting initiator, after its {@code unpark} and {@code latency(target, initiator)}
 *       (acknowledgements at the same time go in the order a simulation's seed draws, so
 *       for a tie the estimate takes the mean of their ways back).</li>
 * </ul>
 * So flat is {@code n} sends then the slowest target's round trip, serial {@code n} hops of
 * send, latency and interrupt, a tree {@code k} sends per level, and the topology-aware shape one
 * send per socket, then per complex, then per core. A shape says only who queues whom
 * ({@link Shape#sender}); the estimate adds the figures along that tree. Adding targets one at a
 * time only appends a leaf and one send to its sender, so every target count of a machine comes
 * out of one pass per shape. The latencies follow the model's topology (what a simulation charges),
 * the topology-aware shape's groups the machine's.
 *
 * <p>Not modelled: the function's own time, targets that are busy rather than parked, other
 * initiators, and an initiator elsewhere than core 0 (its distances differ a little). Immutable.
 */
final class AutoShape {
    /** The fixed shapes auto() chooses among, simplest first: a tie goes to the earlier. */
    static final List<Broadcast> CANDIDATES = candidates();

    /** Flat, topology, trees of fan-out 2 to 16, 24, 32 and 64, serial: an estimate is one pass, so many are cheap. */
    private static List<Broadcast> candidates() {
        final List<Broadcast> c = new ArrayList<>(List.of(Broadcast.flat(), Broadcast.topology()));
        for (int k = 2; k <= 16; k++) {
            c.add(Broadcast.tree(k));
        }
        c.addAll(List.of(Broadcast.tree(24), Broadcast.tree(32), Broadcast.tree(64), Broadcast.serial()));
        return List.copyOf(c);
    }

    /** By remote target count, 0 to cores (an outside caller's targets are all remote): the shape to use. */
    private final Broadcast[] byTargets;

    /**
     * @param model the machine's cost model
     * @param topology the machine's topology (the topology-aware shape's groups)
     * @param cores the machine's core count
     */
    AutoShape(final CostModel model, final Topology topology, final int cores) {
        final long[][] estimates = new long[CANDIDATES.size()][];
        for (int c = 0; c < estimates.length; c++) {
            estimates[c] = estimates(CANDIDATES.get(c).shape, model, topology, cores);
        }
        this.byTargets = new Broadcast[cores + 1];
        for (int n = 0; n <= cores; n++) {
            int best = 0;
            for (int c = 1; c < estimates.length; c++) {
                if (estimates[c][n] < estimates[best][n]) {
                    best = c;
                }
            }
            byTargets[n] = CANDIDATES.get(best);
        }
    }

    /**
     * @param targets the call's remote targets, 0 to cores
     * @return the fixed shape to reach them with
     */
    Broadcast pick(final int targets) {
        return byTargets[targets];
    }

    /** The shape {@link #pick} would return for {@code targets} targets with {@code model}'s topology. */
    static Broadcast best(final CostModel model, final int targets) {
        return new AutoShape(model, model.topology(), targets).pick(targets);
    }

    /** {@code shape}'s estimated completion for {@code targets} targets, as {@link #best} compares them. */
    static long estimate(final Shape shape, final CostModel model, final int targets) {
        return estimates(shape, model, model.topology(), targets)[targets];
    }

    /**
     * The estimated completion time of {@code shape} for 0 to {@code max} remote targets (the
     * class comment's rules), in one pass: target i is the (i + 1)-th core.
     */
    static long[] estimates(final Shape shape, final CostModel model, final Topology topology, final int max) {
        final int[] targets = new int[max];
        for (int i = 0; i < max; i++) {
            targets[i] = i + 1;
        }
        // Every target is parked (the layout assumed), so whoever queues it also unparks it, and the
        // last acknowledgement unparks the waiting initiator: the waker's system call, which a
        // calibrated model prices (a futex wake, ~9 us on a VM) far above the send itself.
        final long unpark = model.prices().getOrDefault(CostModel.UNPARK, 0L);
        final long send = model.send() + unpark;
        final long entry = model.interrupt();
        final long[] start = new long[max]; // when target i is in its handler and begins to queue
        final long[] done = new long[max];  // when it acknowledges, given whom it queued so far
        final int[] queued = new int[max];
        final long[] out = new long[max + 1];
        int initiatorQueued = 0;
        final Latest latest = new Latest();
        for (int i = 0; i < max; i++) {
            final int from = shape.sender(topology, targets, i);
            final long arrival;
            if (from < 0) {
                initiatorQueued++;
                arrival = initiatorQueued * send + model.latency(0, targets[i]);
            } else {
                queued[from]++;
                done[from] = start[from] + queued[from] * send;
                arrival = done[from] + model.latency(targets[from], targets[i]);
                if (send > 0) { // a free send leaves its acknowledgement where it was, counted already
                    latest.acknowledged(done[from], model.latency(targets[from], 0));
                }
            }
            start[i] = arrival + entry;
            done[i] = start[i];
            latest.acknowledged(done[i], model.latency(targets[i], 0));
            out[i + 1] = Math.max(initiatorQueued * send, latest.wakeUp() + unpark);
        }
        return out;
    }

    /**
     * The latest acknowledgement so far, and the mean way back of those tied at it. A target's
     * acknowledgement only moves later as it queues more, so the latest stays the latest until
     * another passes it: targets can be added one at a time.
     */
    private static final class Latest {
        private long at;
        private long returns;
        private int tied;

        void acknowledged(final long when, final long back) {
            if (when > at) {
                at = when;
                returns = back;
                tied = 1;
            } else if (when == at) {
                returns += back;
                tied++;
            }
        }

        long wakeUp() {
            return tied == 0 ? 0 : at + returns / tied;
        }
    }
}
