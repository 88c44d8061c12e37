package org.ipi4j.smp;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Ipi4jException;

/**
 * A cross-core call with wait was not acknowledged by every target within the watchdog timeout,
 * even after the IPI was sent once more. {@link #cpus()} holds every target that did not run the
 * function: those that did not answer, and those a shutdown answered without running it.
 * The message describes each one that has the call (running the function, or queued and not
 * taken: mode, interrupt flag and for how long, the handler or program it was in, its stack), and
 * lists apart the targets a serial, tree or topology broadcast has not passed the call to yet
 * (the core to look at is the one above them). The call stays queued on those cores: if they
 * recover, they will still run it.
 */
public final class CallTimeoutException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet cpus;

    CallTimeoutException(final CpuSet cpus, final String report) {
        super(report);
        this.cpus = cpus;
    }

    /** {@return every target that did not run the function: silent, not reached, or given up by a shutdown} */
    public CpuSet cpus() {
        return cpus;
    }
}
