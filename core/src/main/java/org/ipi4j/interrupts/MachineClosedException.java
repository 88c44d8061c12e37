package org.ipi4j.interrupts;

/** A send or a submission reached a machine that is closing or closed. Nothing was queued. */
public final class MachineClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public MachineClosedException(final String message) {
        super(message);
    }
}
