package org.ipi4j;

import java.util.function.IntConsumer;

import net.openhft.affinity.AffinityLock;

/** Best-effort pinning of the calling thread to a free host CPU, through OpenHFT affinity. */
final class HostAffinity {
    private HostAffinity() {
    }

    /**
     * Pins the calling thread to a free, reservable host CPU if there is one, and tells
     * {@code pinnedTo} which.
     *
     * @return what releases the reservation, or null if the thread runs unpinned
     */
    static Runnable pin(final IntConsumer pinnedTo) {
        try {
            final AffinityLock lock = AffinityLock.acquireLock();
            if (lock.isAllocated()) {
                pinnedTo.accept(lock.cpuId());
                return lock::release;
            }
            lock.release();
        } catch (Throwable noNativeSupport) { // best effort: run unpinned
            return null;
        }
        return null;
    }
}
