package org.ipi4j.examples;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.smp.SmpCall;

/**
 * A thread-per-core key-value store: each core owns one shard (a plain {@link HashMap} that only
 * its owner ever touches), and a client on any core reaches the owner with a cross-core call.
 * No lock anywhere: the call's acknowledgement is what publishes the owner's writes to the
 * caller. {@code onEachCore} collects the statistics.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java -Dexample=KvStore} (after {@code mvn -q install -DskipTests}).
 */
public final class KvStore implements AutoCloseable {
    private final Machine machine;
    private final SmpCall smp;
    private final List<Map<String, String>> shards = new ArrayList<>();
    private final AtomicLongArray served;

    public KvStore(final int cores) {
        machine = Machine.builder().name("kv").cores(cores).idlePolicy(IdlePolicy.adaptive()).build().start();
        smp = SmpCall.install(machine);
        for (int i = 0; i < cores; i++) {
            shards.add(new HashMap<>()); // touched only by core i from now on
        }
        served = new AtomicLongArray(cores);
    }

    private int owner(final String key) {
        return Math.floorMod(key.hashCode(), machine.coreCount());
    }

    /** Stores {@code value} and returns the previous one. Call from a core or any thread. */
    public String put(final String key, final String value) {
        return smp.call(owner(key), cpu -> {
            served.incrementAndGet(cpu);
            return shards.get(cpu).put(key, value);
        });
    }

    /** The value for {@code key}, or null. */
    public String get(final String key) {
        return smp.call(owner(key), cpu -> {
            served.incrementAndGet(cpu);
            return shards.get(cpu).get(key);
        });
    }

    /** Shard sizes, collected with one call on every core. */
    public int[] shardSizes() {
        final int[] sizes = new int[machine.coreCount()];
        smp.onEachCore(cpu -> sizes[cpu] = shards.get(cpu).size());
        return sizes;
    }

    public Machine machine() {
        return machine;
    }

    public SmpCall smp() {
        return smp;
    }

    public long served(final int cpu) {
        return served.get(cpu);
    }

    @Override
    public void close() {
        machine.close();
    }

    public static void main(final String[] args) {
        final int cores = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        final int opsPerClient = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        try (KvStore kv = new KvStore(cores)) {
            // One client per core, each writing its own keys and reading everyone's.
            final List<CompletableFuture<Void>> clients = new ArrayList<>();
            for (final Core core : kv.machine().cores()) {
                clients.add(core.submit(() -> {
                    final ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < opsPerClient; i++) {
                        final String key = "k" + core.id() + "-" + rnd.nextInt(500);
                        kv.put(key, core.id() + ":" + i);
                        kv.get("k" + rnd.nextInt(cores) + "-" + rnd.nextInt(500));
                    }
                    kv.put("last-" + core.id(), "done");
                }));
            }
            CompletableFuture.allOf(clients.toArray(new CompletableFuture[0])).join();
            boolean consistent = true;
            for (int c = 0; c < cores; c++) {
                consistent &= "done".equals(kv.get("last-" + c));
            }
            final int[] sizes = kv.shardSizes();
            System.out.printf("%d cores (%d host CPUs%s), %d clients x %d put+get%n", cores, Machine.hostCpus(),
                kv.machine().oversubscribed() ? ", oversubscribed" : "", cores, opsPerClient);
            for (int c = 0; c < cores; c++) {
                System.out.printf("  shard %d: %5d keys, %7d requests served%n", c, sizes[c], kv.served(c));
            }
            System.out.printf("call IPIs sent %d, coalesced %d, local calls %d%n",
                kv.smp().ipisSent(), kv.smp().ipisCoalesced(), kv.smp().localRuns());
            System.out.println(consistent ? "every client's last write is readable: consistent" : "INCONSISTENT");
            if (!consistent) {
                throw new IllegalStateException("a write was lost");
            }
        }
    }
}
