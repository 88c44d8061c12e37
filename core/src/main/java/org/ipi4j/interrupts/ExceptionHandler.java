package org.ipi4j.interrupts;

/**
 * Decides what a core does after a program raised an exception (#GP, #PF, ...).
 *
 * <p>Runs on the faulting core, in {@link Mode#KERNEL}, before the next instruction. The default
 * for every exception vector is {@link Action#KILL}.
 */
@FunctionalInterface
public interface ExceptionHandler {
    /** What to do with the faulting instruction. */
    enum Action {
        /** Execute the faulting instruction again (after the handler fixed its cause). */
        RETRY,
        /** Skip the faulting instruction and go on with the next one. */
        SKIP,
        /** End the program; its result completes exceptionally with the exception. */
        KILL
    }

    /**
     * Handles {@code fault}; must not throw.
     *
     * @param fault the CPU exception
     * @return whether the faulting code retries, skips the instruction, or stops
     */
    Action handle(CpuException fault);
}
