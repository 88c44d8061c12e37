package org.ipi4j;

/**
 * Pins a core's thread to a host CPU: the service provider interface behind
 * {@link Pinning#BEST_EFFORT}, so that the core library depends on no native code. The module
 * {@code ipi4j-affinity} provides one built on OpenHFT's Java-Thread-Affinity; add it to the class
 * path and it is found with {@link java.util.ServiceLoader}, or hand any implementation to
 * {@link Machine.Builder#pinner(Pinner)}. Without one, cores run unpinned and say so
 * ({@link Core#hostCpu()} is -1). Implementations must be thread-safe: every core calls
 * {@link #pinCurrentThread()} from its own thread when the machine starts.
 */
public interface Pinner {
    /** A pinned thread: the host CPU it runs on, and how to give the CPU back. */
    interface Pin {
        /** {@return the host CPU the thread is pinned to} */
        int hostCpu();

        /** Gives the host CPU back; called once, on the same thread, when the core ends. */
        void release();
    }

    /**
     * Pins the calling thread to a free host CPU.
     *
     * @return the pin, or null if no CPU could be reserved (the thread then runs unpinned)
     */
    Pin pinCurrentThread();

    /** {@return the first {@link Pinner} on the class path, or null} */
    static Pinner fromClassPath() {
        for (final Pinner p : java.util.ServiceLoader.load(Pinner.class, Pinner.class.getClassLoader())) {
            return p;
        }
        return null;
    }
}
