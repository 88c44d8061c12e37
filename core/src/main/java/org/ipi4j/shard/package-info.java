/**
 * Sharded state for thread-per-core services, on top of {@link org.ipi4j.smp.SmpCall}:
 * {@link org.ipi4j.shard.Sharded} holds one instance of a service per core, made on its core and
 * touched only there ({@code invokeOn}, {@code invokeOnAll}, {@code mapReduce}, waited or with a
 * future), as Seastar's {@code sharded<T>}; {@link org.ipi4j.shard.KeyRouter} says which core owns
 * a key. Depends on the root package, {@code smp} and {@code interrupts}; nothing depends on it.
 */
package org.ipi4j.shard;
