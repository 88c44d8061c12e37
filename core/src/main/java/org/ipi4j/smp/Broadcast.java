package org.ipi4j.smp;

import java.util.Locale;
import java.util.Objects;

import org.ipi4j.sim.CostModel;

/**
 * How a cross-core call reaches many targets.
 *
 * <ul>
 *   <li>{@link #flat()}: the initiator queues the call on every target and sends the IPIs itself,
 *       one multicast. One round, n sends on the initiator.</li>
 *   <li>{@link #serial()}: the initiator calls one target at a time and waits for its
 *       acknowledgement before the next. n rounds; the slowest, but never more than one target
 *       is interrupted at once.</li>
 *   <li>{@link #tree(int)}: the initiator tells {@code k} targets; each, on entry, forwards the
 *       call to {@code k} more before running it, and so on. At most
 *       {@code ceil(log_k(n))} rounds, and no core sends more than {@code k} IPIs.</li>
 *   <li>{@link #topology()}: a multicast that follows the machine's
 *       {@link org.ipi4j.interrupts.Topology}, as Barrelfish's NUMA-aware multicast does: the
 *       initiator sends one IPI per socket (to the first target there); that core sends one per
 *       other complex of its socket and to the rest of its own complex; each complex's first
 *       target sends to the rest of its complex. At most 3 rounds, and only one IPI per socket
 *       crosses sockets.</li>
 *   <li>{@link #auto()}: one of the above, chosen per call for its number of remote targets: the
 *       one whose completion time, estimated from the machine's {@link CostModel} and topology,
 *       is the least ({@link #best} says which, {@link #estimateNanos} how long).</li>
 * </ul>
 *
 * Completion always waits for every target, whatever the shape. Immutable; what each shape does
 * with a call is its {@link Shape}.
 */
public final class Broadcast {
    /** The four fixed shapes, and the choice among them. */
    public enum Kind {
        /** One multicast from the initiator. */
        FLAT,
        /** One target at a time, each passing the call on when done. */
        SERIAL,
        /** A k-ary forwarding tree. */
        TREE,
        /** Per socket, then per complex, then per core (the machine's topology). */
        TOPOLOGY,
        /** A fixed shape chosen per call from the machine's cost model. */
        AUTO
    }

    private static final Broadcast FLAT = new Broadcast(Kind.FLAT, 0, new Shape.Flat());
    private static final Broadcast SERIAL = new Broadcast(Kind.SERIAL, 0, new Shape.Serial());
    private static final Broadcast TOPOLOGY = new Broadcast(Kind.TOPOLOGY, 0, new Shape.ByTopology());
    /** No shape of its own: a call resolves it to a fixed one before anything is queued. */
    private static final Broadcast AUTO = new Broadcast(Kind.AUTO, 0, null);

    private final Kind kind;
    private final int fanout;
    /** How this shape passes a call on; SmpCall asks it instead of switching on the kind. Null for auto. */
    final Shape shape;

    private Broadcast(final Kind kind, final int fanout, final Shape shape) {
        this.kind = kind;
        this.fanout = fanout;
        this.shape = shape;
    }

    /** {@return one multicast from the initiator} */
    public static Broadcast flat() {
        return FLAT;
    }

    /** {@return one target at a time, each acknowledged before the next} */
    public static Broadcast serial() {
        return SERIAL;
    }

    /** {@return the topology-aware multicast: per socket, then per complex, then per core} */
    public static Broadcast topology() {
        return TOPOLOGY;
    }

    /**
     * The fixed shape with the least estimated completion time for each call's number of remote
     * targets, from the machine's {@code costModel()} and topology (see {@link #best}). The choice
     * for every count is made once, when cross-core calls are installed on the machine; a call
     * then only looks it up. A call's targets, its JFR event and its timeout message see the
     * fixed shape it was sent with.
     *
     * @return the choosing shape
     */
    public static Broadcast auto() {
        return AUTO;
    }

    /**
     * The fixed shape {@link #auto()} picks for {@code targets} remote targets on a machine with
     * {@code model} and its topology: the one with the least {@link #estimateNanos}; a tie goes to
     * the simplest (flat, topology, trees by fan-out, serial). The candidates are flat, topology,
     * serial and trees of fan-out 2 to 16, 24, 32 and 64.
     *
     * @param targets the number of remote targets, at least 0
     * @param model the costs and topology
     * @return a fixed shape (flat for 0 or 1 target)
     * @throws IllegalArgumentException if {@code targets} is negative or above 1024
     */
    public static Broadcast best(final int targets, final CostModel model) {
        Objects.requireNonNull(model, "model");
        checkTargets(targets);
        return AutoShape.best(model, targets);
    }

    /**
     * The estimated time from the first send of a call to its initiator's wake-up by the last
     * acknowledgement, reaching {@code targets} remote targets with this shape; for {@link #auto()},
     * with the shape it picks. The estimate adds what a simulation with {@code model} charges
     * (send, the waker's unpark, latency by distance, wake, interrupt entry) along the shape's
     * tree, for a call from core 0 to cores 1 to {@code targets}, each parked, running a function
     * that costs nothing.
     *
     * @param targets the number of remote targets, at least 0
     * @param model the costs and topology
     * @return virtual nanoseconds (0 for no target)
     * @throws IllegalArgumentException if {@code targets} is negative or above 1024
     */
    public long estimateNanos(final int targets, final CostModel model) {
        Objects.requireNonNull(model, "model");
        checkTargets(targets);
        final Broadcast fixed = kind == Kind.AUTO ? AutoShape.best(model, targets) : this;
        return AutoShape.estimate(fixed.shape, model, targets);
    }

    private static void checkTargets(final int targets) {
        if (targets < 0 || targets > 1024) {
            throw new IllegalArgumentException("targets must be 0 to 1024 (a machine has at most 1024 cores), not "
                + targets);
        }
    }

    /**
     * A k-ary tree of forwarding targets.
     *
     * @param fanout how many cores each reached core forwards to, at least 1
     * @return the tree shape
     * @throws IllegalArgumentException if {@code fanout < 1}
     */
    public static Broadcast tree(final int fanout) {
        if (fanout < 1) {
            throw new IllegalArgumentException("tree fan-out must be >= 1, not " + fanout);
        }
        return new Broadcast(Kind.TREE, fanout, new Shape.Tree(fanout));
    }

    /** {@return the shape} */
    public Kind kind() {
        return kind;
    }

    /** {@return fan-out of a tree, 0 otherwise} */
    public int fanout() {
        return fanout;
    }

    /**
     * Rounds of IPIs needed to reach {@code targets} cores: 1 for flat, {@code targets} for
     * serial, for a tree the smallest d with k + k^2 + ... + k^d >= targets, for the topology-aware
     * multicast its bound, 3 (fewer if fewer targets); for {@link #auto()}, whose shape depends on
     * the machine's costs, those of the shape it picks with {@link CostModel#defaults()} (for
     * another model, {@code best(targets, model).rounds(targets)}).
     *
     * @param targets the number of remote targets
     * @return the rounds of IPIs this shape needs to reach them all
     */
    public int rounds(final int targets) {
        if (targets <= 0) {
            return 0;
        }
        if (kind == Kind.AUTO) {
            return best(Math.min(targets, 1024), CostModel.defaults()).rounds(targets);
        }
        return shape.rounds(targets);
    }

    @Override
    public String toString() {
        return kind == Kind.TREE ? "tree(" + fanout + ")" : kind.name().toLowerCase(Locale.ROOT);
    }
}
