package org.ipi4j.smp;

import org.ipi4j.interrupts.Topology;

/**
 * What a {@link Broadcast} shape does with a call: each shape answers for itself whom the
 * initiator queues the call on, whom a target passes it to (before it runs the function, or
 * after), and which targets are lost with a target that is given up or stuck.
 * {@link CallDelivery} does the queueing and the giving up ({@link CallDelivery#enqueue},
 * {@link CallDelivery#ringAll}, {@link CallDelivery#giveUpFrom}); a shape only chooses the
 * targets, by index into {@link Call#targets}, whose first {@link Call#remoteCount} entries are
 * the remote targets in core-id order.
 *
 * <p>One instance per {@link Broadcast}, immutable (a tree's fan-out is its only state), so a
 * call allocates nothing here. A call to one core always goes {@link Flat}, so where only such
 * calls are made (the round trip to a spinning core) every call site here sees one class and the
 * JIT inlines it behind a type check.
 */
abstract sealed class Shape permits Shape.Flat, Shape.Serial, Shape.Tree, Shape.ByTopology {
    /** The initiator's hops, after the call is armed: queues it on the targets the initiator reaches itself. */
    abstract void start(CallDelivery delivery, Call call);

    /**
     * On target {@code index}, in its handler, before it runs the function: passes the call on to
     * the targets it reaches first, so they work while it does. Nothing by default.
     *
     * @param level the IPI rounds it took to reach {@code index}
     */
    void forward(final CallDelivery delivery, final Call call, final int index, final int level) {
    }

    /**
     * On target {@code index}, after it ran the function and before it acknowledges (after the
     * last acknowledgement the call may be reused): passes the call on. Nothing by default.
     *
     * @param level the IPI rounds it took to reach {@code index}
     */
    void passOn(final CallDelivery delivery, final Call call, final int index, final int level) {
    }

    /**
     * Target {@code index} is given up (the caller claimed it): gives up, and answers with
     * {@code why}, every target it would have passed the call to, before the caller answers
     * {@code index} itself. Nothing by default.
     */
    void giveUpBelow(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
    }

    /**
     * At shutdown, target {@code index} is stuck inside the function: gives up the targets it
     * would pass the call to only after running it (those it forwards to before are queued
     * already). Nothing by default.
     */
    void giveUpStrandedBy(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
    }

    /**
     * Rounds of IPIs needed to reach {@code targets} remote cores, at least 1.
     *
     * @param targets the number of remote targets, at least 1
     * @return the rounds
     */
    abstract int rounds(int targets);

    /**
     * Who queues target {@code index} of {@code targets} (remote targets in core-id order): the
     * index of the target that passes it on, or -1 for the initiator. A sender queues its targets
     * in increasing index order, so this is all {@link AutoShape}'s estimate needs of a shape.
     *
     * @param topology where cores sit
     * @param targets the remote targets' core ids, increasing
     * @param index a target's index, 0 to {@code targets.length - 1}
     * @return its sender's index, smaller than {@code index}, or -1
     */
    abstract int sender(Topology topology, int[] targets, int index);

    /** One multicast from the initiator; nobody passes anything on. */
    static final class Flat extends Shape {
        @Override
        void start(final CallDelivery delivery, final Call call) {
            delivery.ringAll(call);
        }

        @Override
        int rounds(final int targets) {
            return 1;
        }

        @Override
        int sender(final Topology topology, final int[] targets, final int index) {
            return -1;
        }
    }

    /** One target at a time: each passes the call to the next when it is done. */
    static final class Serial extends Shape {
        @Override
        void start(final CallDelivery delivery, final Call call) {
            delivery.enqueue(call, 0, 1);
        }

        @Override
        void passOn(final CallDelivery delivery, final Call call, final int index, final int level) {
            if (index + 1 < call.remoteCount) {
                delivery.enqueue(call, index + 1, level + 1);
            }
        }

        /**
         * Every later target, in one loop rather than down the chain (a chain as long as the
         * machine is wide would be as deep a recursion): none of them was queued yet.
         */
        @Override
        void giveUpBelow(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
            for (int j = index + 1; j < call.remoteCount; j++) {
                final CallDescriptor d = call.descriptors[j];
                if (d.claimForGiveUp()) {
                    call.acknowledge(d, why);
                }
            }
        }

        @Override
        void giveUpStrandedBy(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
            if (index + 1 < call.remoteCount) {
                delivery.giveUpFrom(call, index + 1, why);
            }
        }

        @Override
        int rounds(final int targets) {
            return targets;
        }

        @Override
        int sender(final Topology topology, final int[] targets, final int index) {
            return index - 1;
        }
    }

    /** A k-ary tree over the target indices: the initiator reaches 0..k-1, target i reaches (i+1)k..(i+1)k+k-1. */
    static final class Tree extends Shape {
        private final int fanout;

        Tree(final int fanout) {
            this.fanout = fanout;
        }

        @Override
        void start(final CallDelivery delivery, final Call call) {
            for (int i = 0; i < Math.min(fanout, call.remoteCount); i++) {
                delivery.enqueue(call, i, 1);
            }
        }

        @Override
        void forward(final CallDelivery delivery, final Call call, final int index, final int level) {
            final int first = (index + 1) * fanout;
            for (int j = first; j < Math.min(first + fanout, call.remoteCount); j++) {
                delivery.enqueue(call, j, level + 1);
            }
        }

        @Override
        void giveUpBelow(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
            final int first = (index + 1) * fanout;
            for (int j = first; j < Math.min(first + fanout, call.remoteCount); j++) {
                delivery.giveUpFrom(call, j, why); // and, through it, j's own subtree
            }
        }

        /** The smallest d with k + k^2 + ... + k^d >= targets. */
        @Override
        int rounds(final int targets) {
            int depth = 0;
            long covered = 0;
            long level = 1;
            while (covered < targets) {
                level *= fanout;
                covered += level;
                depth++;
                if (fanout == 1 && depth >= targets) {
                    break;
                }
            }
            return depth;
        }

        /** The inverse of {@link #forward}'s {@code (i + 1) k .. (i + 1) k + k - 1}. */
        @Override
        int sender(final Topology topology, final int[] targets, final int index) {
            return index < fanout ? -1 : index / fanout - 1;
        }
    }

    /**
     * The topology-aware multicast: the initiator reaches the first target of each socket; a
     * socket's first target reaches the first target of each other complex of its socket and the
     * rest of its own complex; a complex's first target reaches the rest of its complex. Targets
     * are in id order, so each socket's and each complex's targets are contiguous.
     */
    static final class ByTopology extends Shape {
        @Override
        void start(final CallDelivery delivery, final Call call) {
            final Topology topology = delivery.topology();
            for (int i = 0; i < call.remoteCount; i++) {
                if (leads(topology, call.targets, i, true)) {
                    delivery.enqueue(call, i, 1);
                }
            }
        }

        @Override
        void forward(final CallDelivery delivery, final Call call, final int index, final int level) {
            fanOut(delivery, call, index, level, null);
        }

        @Override
        void giveUpBelow(final CallDelivery delivery, final Call call, final int index, final RuntimeException why) {
            fanOut(delivery, call, index, 0, why);
        }

        @Override
        int rounds(final int targets) {
            return Math.min(3, targets);
        }

        /** A socket's first target is the initiator's; a complex's first, its socket's first; any other, its complex's first. */
        @Override
        int sender(final Topology topology, final int[] targets, final int index) {
            if (leads(topology, targets, index, true)) {
                return -1;
            }
            final boolean complexLeader = leads(topology, targets, index, false);
            int j = index - 1;
            while (!leads(topology, targets, j, complexLeader)) {
                j--;
            }
            return j;
        }

        /**
         * Whether remote target {@code i} is the first of its socket ({@code socket}) or of its
         * complex among the call's targets: a core the multicast reaches from above.
         */
        private static boolean leads(final Topology topology, final int[] targets, final int i, final boolean socket) {
            if (i == 0) {
                return true;
            }
            final int a = targets[i - 1];
            final int b = targets[i];
            return socket ? topology.socket(a) != topology.socket(b) : topology.complex(a) != topology.complex(b);
        }

        /** The targets {@code i} reaches: queued at {@code level + 1}, or, with {@code giveUp} not null, given up with it. */
        private static void fanOut(final CallDelivery delivery, final Call call, final int i, final int level,
                                   final RuntimeException giveUp) {
            final Topology topology = delivery.topology();
            final boolean socketLeader = leads(topology, call.targets, i, true);
            final boolean complexLeader = socketLeader || leads(topology, call.targets, i, false);
            if (!complexLeader) {
                return;
            }
            final int socket = topology.socket(call.targets[i]);
            final int complex = topology.complex(call.targets[i]);
            for (int j = i + 1; j < call.remoteCount && topology.socket(call.targets[j]) == socket; j++) {
                final boolean sameComplex = topology.complex(call.targets[j]) == complex;
                if (!sameComplex && !socketLeader) {
                    break;
                }
                if (sameComplex || leads(topology, call.targets, j, false)) {
                    if (giveUp == null) {
                        delivery.enqueue(call, j, level + 1);
                    } else {
                        delivery.giveUpFrom(call, j, giveUp);
                    }
                }
            }
        }
    }
}
