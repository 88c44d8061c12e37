package org.ipi4j.smp;

/** Like {@link CoreAction}, with a result for the caller. */
@FunctionalInterface
public interface CallFunction<T> {
    /** Runs on core {@code cpu} and returns a value for the caller. */
    T apply(int cpu) throws Exception;
}
