package org.ipi4j.interrupts;

/**
 * How a send decides whether to notify (wake) its target ({@code Machine.Builder.deliveryMode}).
 */
public enum DeliveryMode {
    /**
     * Today's default: a send that sets a vector's pending bit from 0 to 1 signals the target (a
     * volatile read of its idle state, and an unpark if it is parked); a send that finds the bit
     * set coalesces with it.
     */
    PER_VECTOR,
    /**
     * Posted interrupts (VT-x/VT-d posted-interrupt descriptors): the pending bits are the PIR, and
     * one ON ("outstanding notification") bit per core decides for every vector at once: a send
     * signals the target only when it sets ON from 0 to 1; while the core is preempted, SN
     * ("suppress notification") keeps senders from signalling at all. The core clears ON before its
     * last look at the PIR before it parks, so no suppressed send is lost.
     */
    POSTED
}
