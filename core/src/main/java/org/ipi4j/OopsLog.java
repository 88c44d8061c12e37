package org.ipi4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.OopsCount;
import org.ipi4j.interrupts.Vector;

/**
 * A machine's book of failures: the first ones as they were, every one counted, and one entry
 * per distinct kind with its first occurrence and its count, so that a handler failing forever
 * neither grows memory nor hides the other failures. The model is Agrona's
 * {@code DistinctErrorLog}, which does not fit as it is: it keeps a stack trace's text in a
 * buffer, where an {@link Oops} keeps its exception and the payloads the handler had received,
 * and tells kinds apart by the exception alone, where an oops is also its description and vector.
 *
 * <p>Thread-safe: any core (and the thread that shuts the machine down) records at once; the
 * readers return a recent view, not a locked snapshot. An oops a reader returns was fully built
 * before it was published (the concurrent collections' own happens-before).
 */
final class OopsLog {
    private static final String OTHER = "other failures";

    /** The first oopses, at most the capacity given. */
    private final ArrayBlockingQueue<Oops> first;
    /** Distinct kinds of oops and their counts, at most {@link #maxKinds} kinds. */
    private final ConcurrentHashMap<String, Kind> kinds = new ConcurrentHashMap<>();
    private final int maxKinds;
    private final LongAdder total = new LongAdder();
    private final LongSupplier clock;
    /** Null when nobody listens. */
    private final Consumer<Oops> listener;

    /**
     * An empty log.
     *
     * @param capacity how many of the first oopses {@link #first()} keeps
     * @param maxKinds how many kinds {@link #distinct()} tells apart
     * @param clock stamps each oops (the machine's clock)
     * @param listener called for every oops after it is recorded, or null
     */
    OopsLog(final int capacity, final int maxKinds, final LongSupplier clock, final Consumer<Oops> listener) {
        this.first = new ArrayBlockingQueue<>(capacity);
        this.maxKinds = maxKinds;
        this.clock = clock;
        this.listener = listener;
    }

    /** Records a failure on core {@code cpu} (-1 off the cores) and tells the listener, whose own failure is swallowed. */
    void record(final int cpu, final Vector vector, final String what, final Throwable error, final List<Object> payloads) {
        final Oops oops = new Oops(cpu, vector, what, error, payloads, clock.getAsLong());
        total.increment();
        first.offer(oops); // dropped when full: counted in total and kinds
        String key = key(oops);
        if (!kinds.containsKey(key) && kinds.size() >= maxKinds) {
            key = OTHER;
        }
        kinds.computeIfAbsent(key, k -> new Kind(oops)).count.increment();
        if (listener != null) {
            try {
                listener.accept(oops);
            } catch (Throwable ignored) {
                // the listener's own failure must not take the core down; the oops is recorded
            }
        }
    }

    /** {@return the first oopses recorded, oldest first (a copy)} */
    List<Oops> first() {
        return List.copyOf(first);
    }

    /** {@return how many oopses were recorded, those {@link #first()} no longer holds included} */
    long total() {
        return total.sum();
    }

    /** {@return one entry per kind, with its first occurrence and its count, most frequent first} */
    List<OopsCount> distinct() {
        final List<OopsCount> out = new ArrayList<>();
        for (final Kind k : kinds.values()) {
            out.add(new OopsCount(k.first, k.count.sum()));
        }
        out.sort((a, b) -> Long.compare(b.count(), a.count()));
        return out;
    }

    /** What makes two oopses the same kind: description, vector, exception class and throwing frame. */
    private static String key(final Oops o) {
        final StringBuilder sb = new StringBuilder(o.what()).append('|').append(o.vector());
        final Throwable t = o.error();
        if (t != null) {
            sb.append('|').append(t.getClass().getName());
            final StackTraceElement[] st = t.getStackTrace();
            if (st.length > 0) {
                sb.append('@').append(st[0]);
            }
        }
        return sb.toString();
    }

    /** One distinct kind: its first occurrence and its count. */
    private static final class Kind {
        final Oops first;
        final LongAdder count = new LongAdder();

        Kind(final Oops first) {
            this.first = first;
        }
    }
}
