package org.ipi4j.examples;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.shard.KeyRouter;
import org.ipi4j.shard.Sharded;
import org.ipi4j.smp.SmpCall;

/**
 * A thread-per-core key-value store: each core owns one shard (a plain {@link HashMap} that only
 * its owner ever touches, held by a {@link Sharded}), a {@link KeyRouter} says which core owns a
 * key, and a client on any core or thread reaches the owner with {@link Sharded#invokeOn}. No lock
 * anywhere: the call's acknowledgement is what publishes the owner's writes to the caller.
 * {@link Sharded#mapReduce} collects the statistics.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java -Dexample=KvStore} (after {@code mvn -q install -DskipTests}).
 */
public final class KvStore implements AutoCloseable {
    /** One core's part of the store; touched on that core only. */
    private static final class Shard {
        final int cpu;
        final Map<String, String> map = new HashMap<>();
        long served;

        Shard(final int cpu) {
            this.cpu = cpu;
        }
    }

    private final Machine machine;
    private final SmpCall smp;
    private final Sharded<Shard> shards;
    private final KeyRouter router;

    public KvStore(final int cores) {
        machine = Machine.builder().name("kv").cores(cores).idlePolicy(IdlePolicy.adaptive()).build().start();
        smp = SmpCall.install(machine);
        shards = Sharded.start(smp, Shard::new); // each shard made on its own core
        router = shards.router();
    }

    /** Stores {@code value} and returns the previous one. Call from a core or any thread. */
    public String put(final String key, final String value) {
        return shards.invokeOn(router.route(key), shard -> {
            shard.served++;
            return shard.map.put(key, value);
        });
    }

    /** The value for {@code key}, or null. */
    public String get(final String key) {
        return shards.invokeOn(router.route(key), shard -> {
            shard.served++;
            return shard.map.get(key);
        });
    }

    /** {@return the core that owns {@code key}} */
    public int owner(final String key) {
        return router.route(key);
    }

    /** Shard sizes, by core, collected with one call on every core. */
    public int[] shardSizes() {
        // The mapper reads the map on its own core; the fold, here, sees only the numbers it returned.
        return shards.mapReduce(shard -> new int[] {shard.cpu, shard.map.size()}, new int[machine.coreCount()],
            (sizes, cpuAndSize) -> {
                sizes[cpuAndSize[0]] = cpuAndSize[1];
                return sizes;
            });
    }

    public Machine machine() {
        return machine;
    }

    public SmpCall smp() {
        return smp;
    }

    /** {@return requests core {@code cpu}'s shard served} */
    public long served(final int cpu) {
        final long n = shards.invokeOn(cpu, shard -> shard.served);
        return n;
    }

    @Override
    public void close() {
        machine.close(); // shutdown closes the shards first, on their cores
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
