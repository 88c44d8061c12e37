package org.ipi4j.sim;

import org.ipi4j.interrupts.Ipi4jException;

/**
 * A simulated run failed: it deadlocked (every core and the caller asleep with nothing scheduled,
 * a lost wake-up) or stalled (a thread blocked outside the simulation). The message names the seed
 * and how to replay it; {@link #seed()} gives the seed itself.
 */
public final class SimulationException extends Ipi4jException {
    private static final long serialVersionUID = 1L;
    /** The seed that replays the failure. */
    private final long seed;

    /**
     * @param message what happened, with the seed and how to replay it
     * @param seed the simulation's seed
     */
    public SimulationException(final String message, final long seed) {
        super(message);
        this.seed = seed;
    }

    /** {@return the seed of the failed simulation} */
    public long seed() {
        return seed;
    }
}
