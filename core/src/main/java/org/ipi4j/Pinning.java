package org.ipi4j;

/** Whether core threads are pinned to host CPUs. */
public enum Pinning {
    /** Never pin; the OS scheduler moves core threads freely. */
    NONE,
    /**
     * Ask OpenHFT affinity for a free, reservable host CPU per core. Cores that get none (more
     * cores than reservable CPUs, or no native support) run unpinned; {@link Core#hostCpu()}
     * tells which is which.
     */
    BEST_EFFORT
}
