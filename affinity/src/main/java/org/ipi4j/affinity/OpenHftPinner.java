package org.ipi4j.affinity;

import net.openhft.affinity.AffinityLock;
import org.ipi4j.Pinner;

/**
 * A {@link Pinner} built on OpenHFT's Java-Thread-Affinity: each core reserves a free host CPU
 * with {@code AffinityLock.acquireLock()} and releases it when it ends. Found on the class path by
 * {@code Pinning.BEST_EFFORT}. OpenHFT only hands out the CPUs it considers reservable (on Linux,
 * by default, every CPU but the first), so a small host pins fewer cores than it has. Thread-safe.
 */
public final class OpenHftPinner implements Pinner {
    @Override
    public Pin pinCurrentThread() {
        final AffinityLock lock = AffinityLock.acquireLock();
        if (!lock.isAllocated()) {
            lock.release();
            return null;
        }
        final int cpu = lock.cpuId();
        return new Pin() {
            @Override
            public int hostCpu() {
                return cpu;
            }

            @Override
            public void release() {
                lock.release();
            }
        };
    }
}
