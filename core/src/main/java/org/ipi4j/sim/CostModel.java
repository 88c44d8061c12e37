package org.ipi4j.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
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
 * their own setters, and {@link Builder#price(String, long)} prices any other kind, among them
 * {@value #INVLPGB} and {@value #TLBSYNC}, a broadcast invalidation's (round figures: an INVLPGB a
 * little dearer than an INVLPG, a TLBSYNC about a round trip across a socket). Work with no
 * price is refused when it is charged, naming the kind, rather than costing nothing silently.
 *
 * <h2>Sharing the host's CPUs</h2>
 * {@link Builder#hostCpus} says how many host CPUs the modelled machine's cores share (0, the
 * default: each core has its own) and {@link Builder#contextSwitch} what getting a core onto one
 * costs; see {@link Simulation} for what it charges.
 *
 * <h2>In a file</h2>
 * {@link #write} and {@link #read} keep a model in a {@link java.util.Properties} text file, one
 * key per figure, in nanoseconds: {@code send}, {@code latency.sameComplex},
 * {@code latency.sameSocket}, {@code latency.crossSocket}, {@code wake}, {@code interrupt},
 * {@code flush.page}, {@code flush.all}, {@code spin}, {@code contextSwitch}; {@code hostCpus} (a
 * count); {@code topology} ({@code uniform}, or {@code CxS} for C cores per complex and S
 * complexes per socket); {@code price.<name>} for each other named kind; and
 * {@code provenance.<key>} for where the figures come from ({@link #provenance()}).
 * {@code read(write(m))} {@linkplain #equals equals} {@code m}.
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
    /**
     * The name of the waker's work of unparking a parked core (a futex wake on Linux), on top of a
     * send's price; 0 by default (a calibrated model prices it: on a VM it is most of a send).
     */
    public static final String UNPARK = "unpark";
    /**
     * The name of the work of one broadcast invalidation (INVLPGB) by the initiator, per page, or
     * once for a whole space; priced by {@link Builder#price}, 250 ns by default.
     */
    public static final String INVLPGB = "invlpgb";
    /**
     * The name of the work of waiting for a broadcast invalidation to reach every core (TLBSYNC),
     * once per shootdown, by the initiator; priced by {@link Builder#price}, 1000 ns by default.
     */
    public static final String TLBSYNC = "tlbsync";

    /**
     * The most any one figure may cost: 1,000 s. A sum over a shape's tree of 1,024 targets (a few
     * figures per hop) stays far from overflow, where an unbounded figure wrapped the estimates.
     */
    public static final long MAX_NANOS = 1_000_000_000_000L;

    private final Map<String, Long> prices;
    private final long send;
    private final long[] hop;
    private final long wake;
    private final long interrupt;
    private final long flushPage;
    private final long flushAll;
    private final long spin;
    private final Topology topology;
    private final int hostCpus;
    private final long contextSwitch;
    private final SortedMap<String, String> provenance;

    private CostModel(final Builder b) {
        this.send = b.send;
        this.hop = new long[] {0, b.sameComplex, b.sameSocket, b.crossSocket};
        this.wake = b.wake;
        this.interrupt = b.interrupt;
        this.flushPage = b.flushPage;
        this.flushAll = b.flushAll;
        this.spin = b.spin;
        this.topology = b.topology;
        this.hostCpus = b.hostCpus;
        this.contextSwitch = b.contextSwitch;
        this.provenance = Collections.unmodifiableSortedMap(new TreeMap<>(b.provenance));
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
     * Reads a model from a file {@link #write} wrote (the class comment lists the keys).
     *
     * @param file the file
     * @return the model
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if a key is missing, unknown or has a malformed value (the
     *     message names the key and the file)
     */
    public static CostModel read(final Path file) throws IOException {
        return CostModelFile.read(Objects.requireNonNull(file, "file"));
    }

    /**
     * Writes this model to {@code file} (replacing it), keys in sorted order, so that the same
     * model gives the same bytes; {@link #read} reads it back.
     *
     * @param file the file
     * @throws IOException if the file cannot be written
     */
    public void write(final Path file) throws IOException {
        CostModelFile.write(this, Objects.requireNonNull(file, "file"));
    }

    /** {@return a builder that starts from this model's figures, topology and provenance} */
    public Builder toBuilder() {
        final Builder b = new Builder();
        b.send = send;
        b.sameComplex = hop[1];
        b.sameSocket = hop[2];
        b.crossSocket = hop[3];
        b.wake = wake;
        b.interrupt = interrupt;
        b.flushPage = flushPage;
        b.flushAll = flushAll;
        b.spin = spin;
        b.topology = topology;
        b.hostCpus = hostCpus;
        b.contextSwitch = contextSwitch;
        b.provenance.putAll(provenance);
        prices.forEach((name, nanos) -> b.price(name, nanos));
        return b;
    }

    /**
     * The price of one unit of {@code work}, by its name.
     *
     * @param work the work
     * @return virtual nanoseconds
     * @throws IllegalArgumentException if the model has no price for it
     */
    public long price(final Timeline.Work work) {
        Objects.requireNonNull(work, "work");
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

    /**
     * The delivery latency for a {@link Topology#distance distance} class, without the wake-up cost.
     *
     * @param distance {@link Topology#SAME_COMPLEX}, {@link Topology#SAME_SOCKET} or {@link Topology#CROSS_SOCKET} (0 for the same core)
     * @return virtual nanoseconds
     * @throws IllegalArgumentException if {@code distance} is not a distance class
     */
    public long hop(final int distance) {
        if (distance < Topology.SAME_CORE || distance > Topology.CROSS_SOCKET) {
            throw new IllegalArgumentException("distance must be 0 to 3 (Topology.SAME_CORE to CROSS_SOCKET), not "
                + distance);
        }
        return hop[distance];
    }

    /** {@return the extra cost of waking a parked core, added to every {@link #latency}} */
    public long wake() {
        return wake;
    }

    /** {@return the cost of entering and leaving an interrupt handler} */
    public long interrupt() {
        return interrupt;
    }

    /** {@return the cost of invalidating one TLB entry} */
    public long flushPage() {
        return flushPage;
    }

    /** {@return the cost of flushing a whole address space} */
    public long flushAll() {
        return flushAll;
    }

    /** {@return the host CPUs the modelled cores share, or 0 for one CPU per core (no sharing)} */
    public int hostCpus() {
        return hostCpus;
    }

    /** {@return the cost of getting a core that is not on a host CPU onto one (only with {@link #hostCpus} above 0)} */
    public long contextSwitch() {
        return contextSwitch;
    }

    /**
     * {@return where the figures come from, by key (by convention {@code host}, {@code date},
     * {@code commit}, {@code java}); empty for a model set by hand; sorted by key, unmodifiable}
     */
    public Map<String, String> provenance() {
        return provenance;
    }

    /** {@return the prices of every named kind of work, the library's own included; sorted, unmodifiable} */
    public Map<String, Long> prices() {
        return Collections.unmodifiableSortedMap(new TreeMap<>(prices));
    }

    /** {@return the cost of one round of a spin loop} */
    public long spin() {
        return spin;
    }

    /** {@return the topology the latencies follow} */
    public Topology topology() {
        return topology;
    }

    /**
     * Two models are equal when every figure, price, the topology (by its shape) and the
     * provenance are.
     */
    @Override
    public boolean equals(final Object o) {
        return o instanceof CostModel m && m.send == send && Arrays.equals(m.hop, hop) && m.wake == wake
            && m.interrupt == interrupt && m.flushPage == flushPage && m.flushAll == flushAll && m.spin == spin
            && m.hostCpus == hostCpus && m.contextSwitch == contextSwitch
            && m.topology.coresPerComplex() == topology.coresPerComplex()
            && m.topology.complexesPerSocket() == topology.complexesPerSocket()
            && m.prices.equals(prices) && m.provenance.equals(provenance);
    }

    @Override
    public int hashCode() {
        return Objects.hash(send, Arrays.hashCode(hop), wake, interrupt, flushPage, flushAll, spin, hostCpus,
            contextSwitch, topology.coresPerComplex(), topology.complexesPerSocket(), prices, provenance);
    }

    @Override
    public String toString() {
        return "send " + send + " ns, latency " + hop[1] + "/" + hop[2] + "/" + hop[3] + " ns (complex/socket/cross), wake "
            + wake + " ns, interrupt " + interrupt + " ns, flush " + flushPage + " ns/page, " + flushAll + " ns full, "
            + topology + (hostCpus == 0 ? "" : ", " + hostCpus + " host CPUs, context switch " + contextSwitch + " ns")
            + (prices.getOrDefault(UNPARK, 0L) == 0 ? "" : ", unpark " + prices.get(UNPARK) + " ns");
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
        private int hostCpus = 0;
        private long contextSwitch = 3000;
        private final Map<String, Long> prices = new TreeMap<>(Map.of(INVLPGB, 250L, TLBSYNC, 1000L, UNPARK, 0L));
        private final Map<String, String> provenance = new TreeMap<>();

        private Builder() {
        }

        private static long check(final String what, final long nanos) {
            if (nanos < 0 || nanos > MAX_NANOS) {
                throw new IllegalArgumentException(what + " must be 0 to " + MAX_NANOS + " ns (1,000 s), not " + nanos);
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

        /**
         * How many host CPUs the modelled cores share: when more cores than that are runnable at
         * once, some wait for a CPU (see {@link Simulation}'s class comment for what it charges).
         *
         * @param cpus at least 0; 0 (the default) means one CPU per core, no sharing
         * @return this
         */
        public Builder hostCpus(final int cpus) {
            if (cpus < 0) {
                throw new IllegalArgumentException("hostCpus must be >= 0 (0: one per core), not " + cpus);
            }
            this.hostCpus = cpus;
            return this;
        }

        /**
         * @param nanos what getting a core that is not on a host CPU onto one costs (a context
         *     switch); charged only with {@link #hostCpus} above 0; default 3000
         * @return this
         */
        public Builder contextSwitch(final long nanos) {
            this.contextSwitch = check("contextSwitch", nanos);
            return this;
        }

        /**
         * Records where the figures come from; by convention the keys {@code host}, {@code date},
         * {@code commit} and {@code java}. Setting a key again replaces its value.
         *
         * @param key letters, digits, dots, dashes and underscores
         * @param value any text
         * @return this
         * @throws IllegalArgumentException if {@code key} is empty or has other characters
         */
        public Builder provenance(final String key, final String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (!key.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("provenance key must be letters, digits, '.', '-' and '_', not '"
                    + key + "'");
            }
            provenance.put(key, value);
            return this;
        }

        /** {@return the model} */
        public CostModel build() {
            return new CostModel(this);
        }
    }
}
