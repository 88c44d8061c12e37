package org.ipi4j.interrupts;

/**
 * A payload did not fit in a target's mailbox (under {@link OverflowPolicy#FAIL}, or after the
 * wait allowed by {@link OverflowPolicy#BLOCK}). The payload was not queued on the cores named by
 * {@link #failed()}; in a multicast, every other target did receive it.
 */
public final class MailboxFullException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet failed;
    private final transient Vector vector;

    /**
     * A payload for {@code vector} was refused by the cores {@code failed}, because {@code why}.
     *
     * @param failed the cores that did not get it
     * @param vector the vector sent
     * @param why what happened
     */
    public MailboxFullException(final CpuSet failed, final Vector vector, final String why) {
        super("mailbox full for " + vector + " on cores " + failed + ": " + why);
        this.failed = failed;
        this.vector = vector;
    }

    /** {@return the cores that did not receive the payload} */
    public CpuSet failed() {
        return failed;
    }

    /** {@return the vector that was sent} */
    public Vector vector() {
        return vector;
    }
}
