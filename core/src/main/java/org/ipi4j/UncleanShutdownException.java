package org.ipi4j;

import java.util.Objects;

import org.ipi4j.interrupts.Ipi4jException;

/**
 * {@link Machine#close()} found the shutdown not clean: interrupts left undelivered, tasks that
 * never ran, or cores stuck past the timeout. The machine is closed all the same; {@link #report()}
 * says what was left. {@link Machine#shutdown(java.time.Duration)} returns the same report instead
 * of throwing.
 */
public final class UncleanShutdownException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient ShutdownReport report;

    UncleanShutdownException(final String machine, final ShutdownReport report) {
        super("machine " + machine + " did not shut down cleanly: " + report);
        this.report = Objects.requireNonNull(report, "report");
    }

    /** {@return what the shutdown left behind} */
    public ShutdownReport report() {
        return report;
    }
}
