package org.ipi4j.bench.lab;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicInteger;

import net.openhft.affinity.Affinity;
import org.ipi4j.Machine;
import org.ipi4j.Pinner;

/**
 * Pins the cores of one machine to the host's CPUs in turn (the i-th core to start gets CPU
 * {@code i mod hostCpus}), so that a machine of n cores on c CPUs has n/c cores on each, every
 * run alike: the placement the cost model's {@code hostCpus} describes. OpenHFT's own pinner
 * reserves CPUs (CPU 0 is kept for the OS), which on a small host leaves most cores unpinned and
 * the placement, and the figures, to chance. Thread-safe: cores pin themselves concurrently.
 */
final class RoundRobinPinner implements Pinner {
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public Pin pinCurrentThread() {
        final int cpu = next.getAndIncrement() % Machine.hostCpus();
        try {
            final BitSet set = new BitSet();
            set.set(cpu);
            Affinity.setAffinity(set);
            if (!Affinity.getAffinity().equals(set)) {
                return null; // not pinned: the core runs unpinned and says so
            }
        } catch (RuntimeException | LinkageError e) {
            return null; // no native support here
        }
        return new Pin() {
            @Override
            public int hostCpu() {
                return cpu;
            }

            @Override
            public void release() {
                // the core's thread ends with it: nothing to give back
            }
        };
    }
}
