package org.ipi4j.interrupts;

import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * An immutable set of core ids: the cpumask of a multicast.
 *
 * <p>Core ids are non-negative; whether they exist on a given machine is checked when the set
 * is used, not when it is built. For the destinations that depend on who is sending (self,
 * all but self) see {@link Shorthand}. Immutable and thread-safe.
 */
public final class CpuSet {
    private static final long[] NO_WORDS = new long[0];
    private static final CpuSet EMPTY = new CpuSet(NO_WORDS);

    private final long[] words;

    private CpuSet(final long[] words) {
        this.words = words;
    }

    /** {@return the empty set} */
    public static CpuSet empty() {
        return EMPTY;
    }

    /**
     * The set of the given ids.
     *
     * @param cpus the target cores
     * @return the set of those ids
     * @throws IllegalArgumentException if an id is negative
     */
    public static CpuSet of(final int... cpus) {
        java.util.Objects.requireNonNull(cpus, "cpus");
        long[] w = NO_WORDS;
        for (final int cpu : cpus) {
            w = set(w, cpu);
        }
        return new CpuSet(w);
    }

    /**
     * {@return the ids {@code 0 .. count-1}}
     *
     * @param count how many ids, from 0
     */
    public static CpuSet firstN(final int count) {
        return range(0, count);
    }

    /**
     * {@return the ids {@code from} (inclusive) to {@code to} (exclusive)}
     *
     * @param from the first id, inclusive
     * @param to the last id, exclusive
     */
    public static CpuSet range(final int from, final int to) {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bad range [" + from + ", " + to + ")");
        }
        long[] w = NO_WORDS;
        for (int cpu = from; cpu < to; cpu++) {
            w = set(w, cpu);
        }
        return new CpuSet(w);
    }

    private static long[] set(final long[] words, final int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("core id " + cpu + " is negative");
        }
        final int word = cpu >>> 6;
        final long[] w = word < words.length ? words : Arrays.copyOf(words, word + 1);
        w[word] |= 1L << cpu;
        return w;
    }

    /**
     * {@return this set with {@code cpu} added}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public CpuSet with(final int cpu) {
        return new CpuSet(set(words.clone(), cpu));
    }

    /**
     * {@return this set with {@code cpu} removed}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public CpuSet without(final int cpu) {
        if (!contains(cpu)) {
            return this;
        }
        final long[] w = words.clone();
        w[cpu >>> 6] &= ~(1L << cpu);
        return new CpuSet(w);
    }

    /**
     * {@return true if {@code cpu} is a member}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public boolean contains(final int cpu) {
        final int word = cpu >>> 6;
        return cpu >= 0 && word < words.length && (words[word] & (1L << cpu)) != 0;
    }

    /** {@return number of members} */
    public int size() {
        int n = 0;
        for (final long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    /** {@return true if there are no members} */
    public boolean isEmpty() {
        return size() == 0;
    }

    /** {@return the highest member, or -1 if empty} */
    public int highest() {
        for (int i = words.length - 1; i >= 0; i--) {
            if (words[i] != 0) {
                return (i << 6) + 63 - Long.numberOfLeadingZeros(words[i]);
            }
        }
        return -1;
    }

    /**
     * The lowest member that is {@code >= from}, or -1 if there is none. Iterates without
     * allocating: {@code for (int c = set.next(0); c >= 0; c = set.next(c + 1))}.
     *
     * @param from where to start looking
     * @return the lowest id in this set at or after {@code from}, or -1
     */
    public int next(final int from) {
        if (from < 0) {
            throw new IllegalArgumentException("from " + from + " is negative");
        }
        int i = from >>> 6;
        if (i >= words.length) {
            return -1;
        }
        long w = words[i] & (-1L << from);
        for (;;) {
            if (w != 0) {
                return (i << 6) + Long.numberOfTrailingZeros(w);
            }
            if (++i == words.length) {
                return -1;
            }
            w = words[i];
        }
    }

    /**
     * Calls {@code action} for each member, lowest first.
     *
     * @param action what to run on each target core, given its id
     */
    public void forEach(final IntConsumer action) {
        java.util.Objects.requireNonNull(action, "action");
        for (int i = 0; i < words.length; i++) {
            long w = words[i];
            while (w != 0) {
                final int bit = Long.numberOfTrailingZeros(w);
                action.accept((i << 6) + bit);
                w &= w - 1;
            }
        }
    }

    /** {@return the members, lowest first} */
    public IntStream stream() {
        final IntStream.Builder b = IntStream.builder();
        forEach(b::add);
        return b.build();
    }

    /** {@return the members, lowest first} */
    public int[] toArray() {
        return stream().toArray();
    }

    @Override
    public boolean equals(final Object o) {
        if (!(o instanceof CpuSet other)) {
            return false;
        }
        final int n = Math.max(words.length, other.words.length);
        for (int i = 0; i < n; i++) {
            final long a = i < words.length ? words[i] : 0;
            final long b = i < other.words.length ? other.words[i] : 0;
            if (a != b) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (final int cpu : toArray()) {
            h = 31 * h + cpu;
        }
        return h;
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
