package org.ipi4j.smp;

import java.util.Map;

import org.ipi4j.interrupts.Ipi4jException;

/**
 * One or more targets of a cross-core call threw. The first failure is the cause, the others are
 * suppressed; {@link #failures()} maps each failing core to what it threw. Every other target
 * did run the function.
 */
public final class SmpCallException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    private final transient Map<Integer, Throwable> failures;

    SmpCallException(final Map<Integer, Throwable> failures) {
        super("cross-core call failed on cores " + failures.keySet() + ": " + failures.values().iterator().next(),
            failures.values().iterator().next());
        this.failures = Map.copyOf(failures);
        failures.values().stream().skip(1).forEach(this::addSuppressed);
    }

    /** {@return core id to the exception its function threw} */
    public Map<Integer, Throwable> failures() {
        return failures;
    }
}
