package org.ipi4j.shard;

/**
 * What {@link Sharded#invokeOnAll} runs on every core, given that core's instance; like
 * {@link ShardFunction}, without a result.
 *
 * @param <T> the instance type
 */
@FunctionalInterface
public interface ShardAction<T> {
    /**
     * Runs on the instance's own core, in interrupt context.
     *
     * @param shard the calling core's instance
     * @throws Exception anything; it reaches the caller inside an {@code SmpCallException}
     */
    void run(T shard) throws Exception;
}
