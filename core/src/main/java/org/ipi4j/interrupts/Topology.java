package org.ipi4j.interrupts;

/**
 * Where cores sit relative to each other: cores are numbered in order through core complexes
 * (cores sharing a last-level cache, an AMD CCX), and complexes in order through sockets. Core
 * {@code c} is in complex {@code c / coresPerComplex} and in socket
 * {@code c / (coresPerComplex * complexesPerSocket)}, whatever the machine's size.
 *
 * <p>Used by the topology-aware broadcast ({@code Broadcast.topology()}), which sends one IPI per
 * socket and lets each socket fan out, and by the simulation's cost model, whose delivery latency
 * depends on the {@link #distance}. Immutable.
 */
public final class Topology {
    /** Same core. */
    public static final int SAME_CORE = 0;
    /** Same core complex (shared last-level cache). */
    public static final int SAME_COMPLEX = 1;
    /** Same socket, another complex. */
    public static final int SAME_SOCKET = 2;
    /** Another socket. */
    public static final int CROSS_SOCKET = 3;

    private static final Topology UNIFORM = new Topology(Integer.MAX_VALUE, 1);

    private final int coresPerComplex;
    private final int complexesPerSocket;
    private final long coresPerSocket;

    private Topology(final int coresPerComplex, final int complexesPerSocket) {
        this.coresPerComplex = coresPerComplex;
        this.complexesPerSocket = complexesPerSocket;
        this.coresPerSocket = (long) coresPerComplex * complexesPerSocket;
    }

    /** {@return one complex in one socket: every core is as near as every other (the default)} */
    public static Topology uniform() {
        return UNIFORM;
    }

    /**
     * Complexes of {@code coresPerComplex} cores, sockets of {@code complexesPerSocket} complexes.
     *
     * @param coresPerComplex cores sharing a last-level cache, at least 1
     * @param complexesPerSocket complexes per socket, at least 1
     * @return the topology
     * @throws IllegalArgumentException if either is below 1
     */
    public static Topology of(final int coresPerComplex, final int complexesPerSocket) {
        if (coresPerComplex < 1) {
            throw new IllegalArgumentException("coresPerComplex must be >= 1, not " + coresPerComplex);
        }
        if (complexesPerSocket < 1) {
            throw new IllegalArgumentException("complexesPerSocket must be >= 1, not " + complexesPerSocket);
        }
        return new Topology(coresPerComplex, complexesPerSocket);
    }

    /** {@return cores per complex} */
    public int coresPerComplex() {
        return coresPerComplex;
    }

    /** {@return complexes per socket} */
    public int complexesPerSocket() {
        return complexesPerSocket;
    }

    /**
     * The complex of core {@code cpu} (numbered across sockets).
     *
     * @param cpu the core's id, at least 0
     * @return its complex
     */
    public int complex(final int cpu) {
        return cpu / coresPerComplex;
    }

    /**
     * The socket of core {@code cpu}.
     *
     * @param cpu the core's id, at least 0
     * @return its socket
     */
    public int socket(final int cpu) {
        return (int) (cpu / coresPerSocket);
    }

    /**
     * How far apart two cores are: {@link #SAME_CORE}, {@link #SAME_COMPLEX},
     * {@link #SAME_SOCKET} or {@link #CROSS_SOCKET}.
     *
     * @param a one core's id
     * @param b the other's
     * @return the distance class
     */
    public int distance(final int a, final int b) {
        if (a == b) {
            return SAME_CORE;
        }
        if (complex(a) == complex(b)) {
            return SAME_COMPLEX;
        }
        return socket(a) == socket(b) ? SAME_SOCKET : CROSS_SOCKET;
    }

    @Override
    public String toString() {
        return this == UNIFORM ? "uniform" : coresPerComplex + " cores/complex, " + complexesPerSocket + " complexes/socket";
    }
}
