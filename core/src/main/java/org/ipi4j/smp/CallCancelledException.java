package org.ipi4j.smp;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Ipi4jException;

/**
 * A call's future was cancelled ({@link CallCompletion#cancel()}) before every target started
 * the function. {@link #cancelled()} never ran it and never will; {@link #ran()} had started it
 * (each target is in exactly one of the two, decided by the one-owner claim of its share).
 * The future completes with this exception once every target that started has finished, so
 * whatever they wrote happens-before the future's {@code join()} throws.
 */
public final class CallCancelledException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient CpuSet ran;
    private final transient CpuSet cancelled;

    CallCancelledException(final CpuSet ran, final CpuSet cancelled) {
        super("cross-core call cancelled: cores " + cancelled + " never ran it, cores " + ran + " had started");
        this.ran = ran;
        this.cancelled = cancelled;
    }

    /** {@return the targets that started (and so finished) the function before the cancel} */
    public CpuSet ran() {
        return ran;
    }

    /** {@return the targets the cancel removed: they never run the function} */
    public CpuSet cancelled() {
        return cancelled;
    }
}
