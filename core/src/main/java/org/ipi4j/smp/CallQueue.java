package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.ipi4j.api.InternalApi;

/**
 * One core's queue of cross-call descriptors: a lock-free, intrusive, multi-producer list with a
 * single consumer that takes everything at once, like Linux's {@code llist} under
 * {@code call_single_queue}.
 *
 * <h2>The IPI decision</h2>
 * {@link #push} reports whether the list was empty: only that caller sends the call-function IPI;
 * every other caller's descriptor is already covered by an IPI that was sent and whose handler has
 * not yet taken the list. The handler {@link #takeAll() takes the whole list} with one atomic
 * exchange. Why nothing is stranded: pushes and the exchange are read-modify-writes of one word,
 * so they are totally ordered; a push that found the list non-empty came before the exchange that
 * empties it, and that exchange returns the pushed descriptor. The jcstress test
 * {@code CallQueueNoStrandedCall} drives this class.
 *
 * <h2>Happens-before</h2>
 * A node's fields written before {@link #push} are visible to the handler after {@link #takeAll}
 * (the push's CAS releases, the exchange acquires).
 *
 * <h2>What the consumer holds</h2>
 * The consumer {@link #hold publishes} the part of a taken list it has not started yet, and the
 * node it {@link #running runs}, so that a third party (shutdown) can still reach every queued
 * descriptor when the consumer is stuck inside one of them: a whole list in the consumer's hands
 * would otherwise be out of everyone else's reach. Who may run or answer a node reached that way
 * is decided by the node's own claim (see {@code CallDescriptor}), not by this queue.
 *
 * <h2>Layout</h2>
 * The queue's words sit between 128 bytes of padding ({@link CallQueueFields}): the queues of
 * all cores are allocated one after another, and right after the last one the delivery's
 * counters, which every caller bumps; unpadded, a caller's count after its IPI took the line of
 * the head from the target that was just taking the list.
 *
 * <p>Any number of producers, one consumer (the owning core). Nodes are the caller's reusable
 * descriptors, so pushing allocates nothing. A node may be pushed again only after the consumer
 * has taken it and is done with it.
 */
@InternalApi
public final class CallQueue extends CallQueuePadAfter {
    /** An element of the list; the link is written by {@link #push} and by {@link #takeAll}. */
    public static class Node {
        Node next;

        /** {@return the node after this one in a list {@link #takeAll()} returned, or null} */
        public final Node next() {
            return next;
        }
    }

    private static final VarHandle HEAD;
    private static final VarHandle HELD;
    private static final VarHandle RUNNING;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(CallQueueFields.class, "head", Node.class);
            HELD = l.findVarHandle(CallQueueFields.class, "held", Node.class);
            RUNNING = l.findVarHandle(CallQueueFields.class, "running", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Queues {@code node}. Any thread.
     *
     * @param node the descriptor to queue, not queued elsewhere
     * @return true if the list was empty: the caller must send the IPI
     */
    public boolean push(final Node node) {
        Node h;
        do {
            h = head;
            node.next = h; // plain: published by the CAS below
        } while (!HEAD.compareAndSet(this, h, node));
        return h == null;
    }

    /**
     * Takes every queued node, oldest first (the list is reversed in place). Consumer only. Read a
     * node's {@link Node#next()} before handing the node back to its owner: the owner may push it
     * again at once.
     *
     * @return the first node, or null if the list was empty
     */
    public Node takeAll() {
        Node n = (Node) HEAD.getAndSet(this, null); // partner: the CAS in push
        Node reversed = null;
        while (n != null) {
            final Node next = n.next;
            n.next = reversed;
            reversed = n;
            n = next;
        }
        return reversed;
    }

    /**
     * Publishes {@code rest}, the nodes of a taken list the consumer has not started yet. Consumer
     * only, before it claims the node it takes next (partner: {@link #held()} after a lost claim).
     *
     * @param rest the first node not yet started, or null
     */
    public void hold(final Node rest) {
        // A release store: program order puts it before the claim's CAS, so a party whose claim
        // of that node fails (it saw the CAS) then reads this cursor or a later one.
        HELD.setRelease(this, rest);
    }

    /** {@return the first taken node the consumer has not started yet, or null} Any thread. */
    public Node held() {
        return (Node) HELD.getAcquire(this);
    }

    /**
     * Publishes the node the consumer runs now (null when it runs none). Consumer only.
     *
     * @param node the node, or null
     */
    public void running(final Node node) {
        RUNNING.setRelease(this, node);
    }

    /** {@return the node the consumer runs now, or null (a recent value)} Any thread. */
    public Node running() {
        return (Node) RUNNING.getAcquire(this);
    }

    /** {@return true if nothing is queued (a recent value)} */
    public boolean isEmpty() {
        return head == null;
    }
}

/** 128 bytes before {@link CallQueueFields}, as CallDelivery and SendGate pad theirs. */
abstract class CallQueuePadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The words of a {@link CallQueue}, on lines of their own; see its accessors for who writes each. */
abstract class CallQueueFields extends CallQueuePadBefore {
    /** The list's newest node: a CAS by each producer, an exchange by the consumer. */
    volatile CallQueue.Node head;
    /** The consumer's taken nodes not started yet (its cursor); written by the consumer only. */
    CallQueue.Node held;
    /** The node the consumer runs now, or null; written by the consumer only. */
    CallQueue.Node running;
}

/** 128 bytes after {@link CallQueueFields}: the next core's queue, or the counters, stay off their line. */
abstract class CallQueuePadAfter extends CallQueueFields {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}
