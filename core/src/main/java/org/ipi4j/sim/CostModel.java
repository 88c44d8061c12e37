package org.ipi4j.sim;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import org.ipi4j.interrupts.Topology;
import org.ipi4j.time.Timeline;

/**
 * What each step costs in a {@link Simulation}, in virtual nanoseconds: sending an IPI (per
 * target), the delivery latency of a wake-up or an IPI by {@link Topology#distance distance}
 * (same complex, same socket, cross socket), entering an interrupt handler, invalidating one TLB
 * entry and flushing a whole address space, and one round of a spin loop.
 *
 * <p>The defaults are round figures of the published orders of magnitude, not measurements of any
 * one machine: an x2APIC ICR write of ~150 ns, one-way IPI latencies of ~0.3 / 0.6 / 1.5 us within
 * a complex / socket / across sockets, ~0.5 us of interrupt entry and exit, ~100 ns per INVLPG (the
 * figure behind Linux's 33-page full-flush ceiling) and ~1.5 us for a full flush and its refills,
 * on 8-core complexes, 8 complexes per socket. Change them to model another machine. Immutable.
 *
 * <h2>Work by name</h2>
 * The code that does the work names it ({@link Timeline.Work#named}); the model prices it by that
 * name: {@value #SEND}, {@value #INTERRUPT}, {@value #FLUSH_PAGE} and {@value #FLUSH_ALL} have
 * their own setters, and {@link Builder#price(String, long)} prices any other kind. Work with no
 * price is refused when it is charged, naming the kind, rather than costing nothing silently.
 */
public final class CostModel {
    /** The name of the work of sending one IPI, per target (priced by {@link Builder#send}). */
    public static final String SEND = "send";
    /** The name of the work of entering a handler (priced by {@link Builder#interrupt}). */
    public static final String INTERRUPT = "interrupt";
    /** The name of the work of invalidating one TLB entry (priced by {@link Builder#flush}). */
    public static final String FLUSH_PAGE = "flush-page";
    /** The name of the work of flushing a whole address space (priced by {@link Builder#flush}). */
    public static final String FLUSH_ALL = "flush-all";

    private final Map<String, Long> prices;
    private final long send;
    private final long[] hop;
    private final long wake;
    private final long interrupt;
    private final long flushPage;
    private final long flushAll;
    private final long spin;
    private final Topology topology;

    private CostModel(final Builder b) {
        this.send = b.send;
        this.hop = new long[] {0, b.sameComplex, b.sameSocket, b.crossSocket};
        this.wake = b.wake;
        this.interrupt = b.interrupt;
        this.flushPage = b.flushPage;
        this.flushAll = b.flushAll;
        this.spin = b.spin;
        this.topology = b.topology;
        final Map<String, Long> p = new TreeMap<>(b.prices);
        p.put(SEND, send);
        p.put(INTERRUPT, interrupt);
        p.put(FLUSH_PAGE, flushPage);
        p.put(FLUSH_ALL, flushAll);
        this.prices = Map.copyOf(p);
    }

    /** {@return the default model (see the class comment)} */
    public static CostModel defaults() {
        return builder().build();
    }

    /** {@return a builder with the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The price of one unit of {@code work}, by its name.
     *
     * @param work the work
     * @return virtual nanoseconds
     * @throws IllegalArgumentException if the model has no price for it
     */
    public long price(final Timeline.Work work) {
        final Long p = prices.get(work.name());
        if (p == null) {
            throw new IllegalArgumentException("the cost model has no price for work '" + work.name() + "' (priced: "
                + new TreeMap<>(prices).keySet() + "); set one with CostModel.builder().price(name, nanos)");
        }
        return p;
    }

    /** {@return the price of sending one IPI, per target} */
    public long send() {
        return send;
    }

    /**
     * How long after {@code from} wakes (or signals) {@code to} the woken side runs: the delivery
     * latency for their distance, plus the wake-up cost. An outside caller (-1) sits where core 0 does.
     *
     * @param from the waking core, or -1 for the outside caller
     * @param to the woken core, or -1 for the outside caller
     * @return virtual nanoseconds
     */
    public long latency(final int from, final int to) {
        return hop[topology.distance(Math.max(0, from), Math.max(0, to))] + wake;
    }

    /** {@return the cost of one round of a spin loop} */
    public long spin() {
        return spin;
    }

    /** {@return the topology the latencies follow} */
    public Topology topology() {
        return topology;
    }

    @Override
    public String toString() {
        return "send " + send + " ns, latency " + hop[1] + "/" + hop[2] + "/" + hop[3] + " ns (complex/socket/cross), wake "
            + wake + " ns, interrupt " + interrupt + " ns, flush " + flushPage + " ns/page, " + flushAll + " ns full, "
            + topology;
    }

    /** Sets the prices; every one must be at least 0. */
    public static final class Builder {
        private long send = 150;
        private long sameComplex = 300;
        private long sameSocket = 600;
        private long crossSocket = 1500;
        private long wake = 0;
        private long interrupt = 500;
        private long flushPage = 100;
        private long flushAll = 1500;
        private long spin = 20;
        private Topology topology = Topology.of(8, 8);
        private final Map<String, Long> prices = new TreeMap<>();

        private Builder() {
        }

        private static long check(final String what, final long nanos) {
            if (nanos < 0) {
                throw new IllegalArgumentException(what + " must be >= 0 ns, not " + nanos);
            }
            return nanos;
        }

        /**
         * @param nanos cost of sending one IPI, per target
         * @return this
         */
        public Builder send(final long nanos) {
            this.send = check("send", nanos);
            return this;
        }

        /**
         * @param sameComplex delivery latency within a complex
         * @param sameSocket delivery latency within a socket
         * @param crossSocket delivery latency across sockets
         * @return this
         */
        public Builder latency(final long sameComplex, final long sameSocket, final long crossSocket) {
            this.sameComplex = check("sameComplex", sameComplex);
            this.sameSocket = check("sameSocket", sameSocket);
            this.crossSocket = check("crossSocket", crossSocket);
            return this;
        }

        /**
         * @param nanos extra cost of waking a parked core (its way out of idle), added to the latency
         * @return this
         */
        public Builder wake(final long nanos) {
            this.wake = check("wake", nanos);
            return this;
        }

        /**
         * @param nanos cost of entering and leaving an interrupt handler
         * @return this
         */
        public Builder interrupt(final long nanos) {
            this.interrupt = check("interrupt", nanos);
            return this;
        }

        /**
         * @param perPage cost of invalidating one TLB entry
         * @param full cost of flushing a whole address space
         * @return this
         */
        public Builder flush(final long perPage, final long full) {
            this.flushPage = check("perPage", perPage);
            this.flushAll = check("full", full);
            return this;
        }

        /**
         * @param nanos one round of a spin loop, at least 1 (a spin must let virtual time pass)
         * @return this
         */
        public Builder spin(final long nanos) {
            if (nanos < 1) {
                throw new IllegalArgumentException("spin must be >= 1 ns, not " + nanos);
            }
            this.spin = nanos;
            return this;
        }

        /**
         * Prices a kind of work by its name; the named setters ({@link #send}, {@link #interrupt},
         * {@link #flush}) price the library's own kinds.
         *
         * @param name the work's name, as {@link Timeline.Work#named} takes it
         * @param nanos the cost of one unit
         * @return this
         * @throws IllegalArgumentException if {@code name} is not a valid work name or {@code nanos} is negative
         */
        public Builder price(final String name, final long nanos) {
            final String n = Timeline.Work.named(name).name();
            switch (n) {
                case SEND -> send(nanos);
                case INTERRUPT -> interrupt(nanos);
                case FLUSH_PAGE -> this.flushPage = check(n, nanos);
                case FLUSH_ALL -> this.flushAll = check(n, nanos);
                default -> prices.put(n, check(n, nanos));
            }
            return this;
        }

        /**
         * @param topology where cores sit (latencies by distance)
         * @return this
         */
        public Builder topology(final Topology topology) {
            this.topology = Objects.requireNonNull(topology, "topology");
            return this;
        }

        /** {@return the model} */
        public CostModel build() {
            return new CostModel(this);
        }
    }
}
