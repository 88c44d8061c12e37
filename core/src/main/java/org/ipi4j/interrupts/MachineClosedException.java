package org.ipi4j.interrupts;

/** A send or a submission reached a machine that is closing or closed. Nothing was queued. */
public final class MachineClosedException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception saying which machine refused what.
     *
     * @param message the detail message
     */
    public MachineClosedException(final String message) {
        super(message);
    }
}
