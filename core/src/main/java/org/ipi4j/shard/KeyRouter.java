package org.ipi4j.shard;

import java.util.Objects;

/**
 * Which core owns a key: a hash of the key, mixed (so that keys whose hash codes differ only in
 * their high bits, or form a sequence, spread over every core) and reduced to {@code 0 ..
 * shards - 1} by a multiply-shift (Lemire's fast range reduction, no division).
 *
 * <p>Stable for a given core count: the same key and the same {@link #shards()} give the same core
 * in every run and on every JVM, for keys whose {@code hashCode} is itself stable (strings, boxed
 * numbers, enums' names, records of such; not an identity hash). A different core count moves most
 * keys (this is not consistent hashing): state keyed by it does not survive a change of core count.
 * Immutable and thread-safe; allocates nothing.
 */
public final class KeyRouter {
    private final int shards;

    /**
     * A router over {@code shards} cores.
     *
     * @param shards how many cores own keys, at least 1
     * @throws IllegalArgumentException if {@code shards} is less than 1
     */
    public KeyRouter(final int shards) {
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be at least 1, not " + shards);
        }
        this.shards = shards;
    }

    /** {@return how many cores own keys} */
    public int shards() {
        return shards;
    }

    /**
     * The core that owns {@code key}, from its {@code hashCode}.
     *
     * @param key the key
     * @return a core id, 0 to {@link #shards()} - 1
     */
    public int route(final Object key) {
        return route(Objects.requireNonNull(key, "key").hashCode());
    }

    /**
     * The core that owns the number {@code key}.
     *
     * @param key the key
     * @return a core id, 0 to {@link #shards()} - 1
     */
    public int route(final long key) {
        return (int) (((mix(key) >>> 32) * shards) >>> 32);
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser: every input bit reaches every output bit. */
    private static long mix(final long key) {
        long z = key;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "KeyRouter[" + shards + " shards]";
    }
}
