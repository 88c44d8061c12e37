package org.ipi4j.interrupts;

/**
 * A send or a submission reached a machine that is closing or closed. Nothing was queued, except
 * for a multicast that the machine closed in the middle of: {@link #delivered()} names the
 * targets that got it before the close (they handle it, or the shutdown report hands it back).
 */
public final class MachineClosedException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet delivered;

    /**
     * An exception saying which machine refused what; nothing was queued.
     *
     * @param message the detail message
     */
    public MachineClosedException(final String message) {
        this(message, CpuSet.empty());
    }

    /**
     * An exception for a multicast the machine closed in the middle of.
     *
     * @param message the detail message, naming the cores that got the payload
     * @param delivered the targets that got the payload before the close
     */
    public MachineClosedException(final String message, final CpuSet delivered) {
        super(message);
        this.delivered = delivered == null ? CpuSet.empty() : delivered;
    }

    /** {@return the targets of a multicast that got it before the machine closed; empty for any other refusal} */
    public CpuSet delivered() {
        return delivered == null ? CpuSet.empty() : delivered;
    }
}
