package org.ipi4j.smp;

/** Like {@link CoreAction}, with a result for the caller. */
@FunctionalInterface
public interface CallFunction<T> {
    /**
     * Runs on core {@code cpu} and returns a value for the caller.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @return the result handed back to the caller
     * @throws Exception anything; it reaches the caller inside an {@link SmpCallException}
     */
    T apply(int cpu) throws Exception;
}
