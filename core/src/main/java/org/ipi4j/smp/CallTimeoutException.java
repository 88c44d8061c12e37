package org.ipi4j.smp;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Ipi4jException;

/**
 * A cross-core call with wait was not acknowledged by every target within the watchdog timeout,
 * even after the IPI was sent once more. The message names each non-responsive core and what it
 * was doing (mode, interrupt flag and for how long, the handler or program it was in, its stack).
 * The call stays queued on those cores: if they recover, they will still run it.
 */
public final class CallTimeoutException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet cpus;

    CallTimeoutException(final CpuSet cpus, final String report) {
        super(report);
        this.cpus = cpus;
    }

    /** {@return the cores that did not answer} */
    public CpuSet cpus() {
        return cpus;
    }
}
