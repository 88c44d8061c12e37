package org.ipi4j.smp;

import java.time.Duration;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Ipi4jException;

/**
 * A cross-core call was not acknowledged by every target in time: within its deadline (a call
 * made through {@link SmpCall#withDeadline}), or, without one, within two watchdog periods (the
 * IPI re-sent once in between). The message gives the duration and describes each core that has
 * the call (running the function, or queued and not taken: mode, interrupt flag and for how long,
 * the handler or program it was in, its stack).
 *
 * <h2>What happened to each target</h2>
 * {@link #ran()}: answered after running the function (well or not). {@link #running()}: had
 * started it at the deadline and was not done; it finishes on its own. {@link #cancelled()}: had
 * not started it and never will: at a deadline the caller claims every such target with the same
 * one-owner claim a target takes to start, so each target is in exactly one of the three.
 * {@link #cpus()} is every target that did not run it.
 *
 * <p>Without a deadline (the watchdog's timeout) nothing is cancelled: the call stays queued on
 * the silent cores, and if they recover they still run it (the MMU's shootdowns rely on it); the
 * message lists apart the targets a serial, tree or topology broadcast has not passed the call to
 * yet (the core to look at is the one above them).
 */
public final class CallTimeoutException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet cpus;
    private final transient CpuSet ran;
    private final transient CpuSet cancelled;
    private final transient CpuSet running;
    private final transient Duration waited;

    CallTimeoutException(final CpuSet cpus, final CpuSet ran, final CpuSet cancelled, final CpuSet running,
                         final Duration waited, final String report) {
        super(report);
        this.cpus = cpus;
        this.ran = ran;
        this.cancelled = cancelled;
        this.running = running;
        this.waited = waited;
    }

    /** {@return every target that did not run the function: cancelled, running, silent, not reached, or given up by a shutdown} */
    public CpuSet cpus() {
        return cpus;
    }

    /** {@return the targets that ran the function and answered} */
    public CpuSet ran() {
        return ran;
    }

    /** {@return the targets that had not started the function at the deadline and never will (empty without a deadline)} */
    public CpuSet cancelled() {
        return cancelled;
    }

    /** {@return the targets that were running the function when the time ran out; they finish on their own} */
    public CpuSet running() {
        return running;
    }

    /** {@return how long the caller waited: the call's deadline, or two watchdog periods} */
    public Duration waited() {
        return waited;
    }
}
