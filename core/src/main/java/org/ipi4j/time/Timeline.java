package org.ipi4j.time;

import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * Where the emulator's time comes from and how its threads sleep, wake and spin: the one seam
 * between the protocols and the host. Every blocking wait of the library (an idle core, a caller
 * waiting for a cross-core call, a send blocked on a full mailbox, a preempted vCPU), every spin
 * loop and every clock read that decides something goes through the machine's timeline.
 *
 * <p>{@link #real()} is the host itself: {@link System#nanoTime()}, {@link LockSupport},
 * {@link Thread#onSpinWait()}; its cost hooks ({@link #spend}, {@link #interleave()}) do nothing.
 * The only other implementation is {@code org.ipi4j.sim.Simulation}, which runs the same code one
 * thread at a time in virtual time, in an order chosen by a seeded scheduler; this class is public
 * so that the simulation, in its own package, can extend it, and is not meant to be extended
 * otherwise.
 *
 * <p>Guarantees: {@link #park}/{@link #unpark} have {@link LockSupport}'s contract (a permit; a
 * park may return spuriously, so callers re-check their condition), and give no happens-before
 * edge of their own: callers publish with volatile accesses as they would around
 * {@link LockSupport}. Thread-safe.
 */
public abstract class Timeline {
    /**
     * A kind of work a simulation charges virtual time for, named by the package that does it
     * (the delivery path charges {@code "send"} and {@code "interrupt"}, the MMU
     * {@code "flush-page"} and {@code "flush-all"}); the simulation's cost model prices it by its
     * name, and the real timeline ignores it. Kinds are open: this package, the seam every other
     * package sits on, names none of them. Two kinds with the same name are equal. Immutable.
     */
    public static final class Work {
        private final String name;

        private Work(final String name) {
            this.name = name;
        }

        /**
         * @param name the kind's name, as the cost model knows it: lower case letters, digits and dashes
         * @return the kind
         * @throws IllegalArgumentException if {@code name} is empty or has other characters
         */
        public static Work named(final String name) {
            if (!Objects.requireNonNull(name, "name").matches("[a-z0-9]+(-[a-z0-9]+)*")) {
                throw new IllegalArgumentException("work name must be lower case letters, digits and dashes, not '"
                    + name + "'");
            }
            return new Work(name);
        }

        /** {@return the kind's name} */
        public String name() {
            return name;
        }

        @Override
        public boolean equals(final Object o) {
            return o instanceof Work w && w.name.equals(name);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final Timeline REAL = new Real();

    /** For the simulation only. */
    protected Timeline() {
    }

    /** {@return the host: real time, real parking} */
    public static Timeline real() {
        return REAL;
    }

    /** {@return the current time in nanoseconds, {@link System#nanoTime()}'s kind of value (only differences mean anything)} */
    public abstract long nanoTime();

    /**
     * Parks the calling thread until {@link #unpark}ed (or spuriously), as {@link LockSupport#park(Object)}.
     *
     * @param blocker what the thread waits for (for thread dumps)
     */
    public abstract void park(Object blocker);

    /**
     * Parks the calling thread for at most {@code nanos}, as {@link LockSupport#parkNanos(Object, long)}.
     *
     * @param blocker what the thread waits for
     * @param nanos the longest wait
     */
    public abstract void parkNanos(Object blocker, long nanos);

    /**
     * Makes {@code thread}'s permit available, as {@link LockSupport#unpark(Thread)}; null is ignored.
     *
     * @param thread the thread to wake
     */
    public abstract void unpark(Thread thread);

    /** One round of a spin loop, as {@link Thread#onSpinWait()}. */
    public abstract void spinWait();

    /** One round of a back-off that gives the CPU away, as {@link Thread#yield()}. */
    public abstract void yieldCpu();

    /**
     * Charges {@code units} of {@code work} to the calling core: a simulation advances its virtual
     * time by the cost model's price (and may run other cores meanwhile); the real timeline does
     * nothing, since the work costs what it costs.
     *
     * @param work what the caller does
     * @param units how many of it, at least 0
     */
    public abstract void spend(Work work, int units);

    /**
     * A point where another core's step may come between the caller's last access and its next
     * one: a simulation may switch cores here (to explore interleavings); the real timeline does
     * nothing.
     */
    public abstract void interleave();

    /**
     * The calling thread runs emulated core {@code cpu} from now on (a simulation takes it under its
     * scheduler); called once by each core's thread before it runs anything.
     *
     * @param cpu the core's id
     */
    public abstract void attach(int cpu);

    /** The calling core thread ends: a simulation stops scheduling it. */
    public abstract void detach();

    /** {@return true for a simulation (virtual time, one thread at a time)} */
    public abstract boolean simulated();

    /** The host. */
    private static final class Real extends Timeline {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void park(final Object blocker) {
            LockSupport.park(blocker);
        }

        @Override
        public void parkNanos(final Object blocker, final long nanos) {
            LockSupport.parkNanos(blocker, nanos);
        }

        @Override
        public void unpark(final Thread thread) {
            LockSupport.unpark(thread);
        }

        @Override
        public void spinWait() {
            Thread.onSpinWait();
        }

        @Override
        public void yieldCpu() {
            Thread.yield();
        }

        @Override
        public void spend(final Work work, final int units) {
            // real work costs what it costs
        }

        @Override
        public void interleave() {
            // the host interleaves by itself
        }

        @Override
        public void attach(final int cpu) {
            // real threads need no scheduler of ours
        }

        @Override
        public void detach() {
            // nothing to leave
        }

        @Override
        public boolean simulated() {
            return false;
        }

        @Override
        public String toString() {
            return "real";
        }
    }
}
