package org.ipi4j.interrupts;

/**
 * What a send does when a target's mailbox for the vector is full. In neither case is a payload
 * dropped silently.
 */
public enum OverflowPolicy {
    /** Throw {@link MailboxFullException} at once: the send stays wait-free. */
    FAIL,
    /**
     * Back off until the target has drained room, up to the machine's block timeout, then throw
     * {@link MailboxFullException}. A sending core keeps taking its own interrupts while it
     * waits, so two cores flooding each other do not deadlock; a core sending to itself fails
     * at once, since it could never drain.
     */
    BLOCK
}
