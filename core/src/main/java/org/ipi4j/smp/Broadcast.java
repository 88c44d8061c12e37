package org.ipi4j.smp;

import java.util.Locale;

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
 * </ul>
 *
 * Completion always waits for every target, whatever the shape. Immutable; what each shape does
 * with a call is its {@link Shape}.
 */
public final class Broadcast {
    /** The four shapes. */
    public enum Kind {
        /** One multicast from the initiator. */
        FLAT,
        /** One target at a time, each passing the call on when done. */
        SERIAL,
        /** A k-ary forwarding tree. */
        TREE,
        /** Per socket, then per complex, then per core (the machine's topology). */
        TOPOLOGY
    }

    private static final Broadcast FLAT = new Broadcast(Kind.FLAT, 0, new Shape.Flat());
    private static final Broadcast SERIAL = new Broadcast(Kind.SERIAL, 0, new Shape.Serial());
    private static final Broadcast TOPOLOGY = new Broadcast(Kind.TOPOLOGY, 0, new Shape.ByTopology());

    private final Kind kind;
    private final int fanout;
    /** How this shape passes a call on; SmpCall asks it instead of switching on the kind. */
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
     * multicast its bound, 3 (fewer if fewer targets).
     *
     * @param targets the number of remote targets
     * @return the rounds of IPIs this shape needs to reach them all
     */
    public int rounds(final int targets) {
        if (targets <= 0) {
            return 0;
        }
        return shape.rounds(targets);
    }

    @Override
    public String toString() {
        return kind == Kind.TREE ? "tree(" + fanout + ")" : kind.name().toLowerCase(Locale.ROOT);
    }
}
