package org.ipi4j;

/** Whether core threads are pinned to host CPUs. */
public enum Pinning {
    /** Never pin; the OS scheduler moves core threads freely. */
    NONE,
    /**
     * Ask the machine's {@link Pinner} (the one given to the builder, or the first on the class
     * path, such as the OpenHFT one of {@code ipi4j-affinity}) for a free host CPU per core. Cores
     * that get none (no pinner, more cores than reservable CPUs, no native support) run unpinned;
     * {@link Core#hostCpu()} tells which is which.
     */
    BEST_EFFORT
}
