package org.ipi4j.interrupts;

/**
 * A payload did not fit in a target's mailbox (under {@link OverflowPolicy#FAIL}, or after the
 * wait allowed by {@link OverflowPolicy#BLOCK}). The payload was not queued on the cores named by
 * {@link #failed()}; in a multicast, every other target did receive it.
 */
public final class MailboxFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet failed;
    private final transient Vector vector;

    public MailboxFullException(final CpuSet failed, final Vector vector, final String why) {
        super("mailbox full for " + vector + " on cores " + failed + ": " + why);
        this.failed = failed;
        this.vector = vector;
    }

    /** The cores that did not receive the payload. */
    public CpuSet failed() {
        return failed;
    }

    /** The vector that was sent. */
    public Vector vector() {
        return vector;
    }
}
