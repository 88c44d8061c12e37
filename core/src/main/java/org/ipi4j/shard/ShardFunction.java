package org.ipi4j.shard;

/**
 * What {@link Sharded#invokeOn} and {@link Sharded#mapReduce} run on a core, given that core's
 * instance: the only place the instance may be touched.
 *
 * @param <T> the instance type
 * @param <R> the result type
 */
@FunctionalInterface
public interface ShardFunction<T, R> {
    /**
     * Runs on the instance's own core, in interrupt context (as a cross-core call's function:
     * short, and no waiting for other cores).
     *
     * @param shard the calling core's instance
     * @return the result handed back to the caller
     * @throws Exception anything; it reaches the caller inside an {@code SmpCallException}
     */
    R apply(T shard) throws Exception;
}
