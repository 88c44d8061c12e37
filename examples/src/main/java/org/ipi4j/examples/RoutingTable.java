package org.ipi4j.examples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.shard.Sharded;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;

/**
 * A routing table that every core caches privately, kept coherent by invalidating every core's
 * copy: the pattern of a per-core cache of shared configuration.
 *
 * <p>The next hop of route {@code r} lives in a slot of a shared pool; each core's cache (one
 * {@code int[]} per core, in a {@link Sharded}) says which slot holds each route. A lookup on a
 * core reads its own cache and then the slot, with no lock and no call. An update writes the new
 * next hop into a fresh slot and points every core's cache at it with {@link Sharded#invokeOnAll}:
 * {@link #update} returns only when no core can still read the old slot, so the old slot is freed
 * and reused at once, which is why an OS waits for a TLB shootdown before freeing a page. It holds
 * because a core takes the call only at an instruction boundary (its {@link Core#checkpoint()}),
 * never in the middle of a lookup: once every core has answered, none is between reading its
 * cache and reading the old slot.
 *
 * <p>{@link #update(int, long, Duration)} is the same with a deadline, for a service that must
 * answer its client in time even while a core is busy: it returns within the deadline and says
 * which cores took the new route. A core the deadline cancelled never ran the switch and still
 * reads the old next hop; a core still running it takes the new one on its own. Either way the old
 * slot is not freed: it is retired, still holding a real next hop (never {@link #FREED}), and freed
 * by the next update of that route that reaches every core.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java -Dexample=RoutingTable}.
 */
public final class RoutingTable implements AutoCloseable {
    private static final int ROUTES = 16;
    private static final int SLOTS = 64;
    /** What a freed slot holds: a lookup that reads it read a route after its slot was reused. */
    static final long FREED = -1;

    private final Machine machine;
    private final SmpCall smp;
    /** Every core's private cache: route to slot. */
    private final Sharded<int[]> caches;
    /** The shared slots; a lookup reads one with a volatile load. */
    private final AtomicLongArray slots = new AtomicLongArray(SLOTS);
    private final boolean[] slotFree = new boolean[SLOTS]; // guarded by this
    private final int[] slotOf = new int[ROUTES]; // guarded by this: the slot every cache points to
    /** Per route, slots a timed-out update left behind: a core may still read them. Guarded by this. */
    private final List<List<Integer>> retired = new ArrayList<>();

    public RoutingTable(final int cores) {
        machine = Machine.builder().name("routing").cores(cores).idlePolicy(IdlePolicy.adaptive()).build().start();
        Arrays.fill(slotFree, true);
        Arrays.fill(slotOf, -1);
        smp = SmpCall.install(machine);
        caches = Sharded.start(smp, cpu -> new int[ROUTES]);
        for (int r = 0; r < ROUTES; r++) {
            retired.add(new ArrayList<>());
        }
        for (int r = 0; r < ROUTES; r++) {
            update(r, 1000 + r);
        }
    }

    /** Next hop of {@code route}, through the calling core's cache. Call from a core. */
    public long lookup(final int route) {
        return slot(cachedSlot(route)); // no boundary between the two reads: no call comes between them
    }

    /** The first half of {@link #lookup}: the slot the calling core's cache names for {@code route}. */
    int cachedSlot(final int route) {
        return caches.local()[route];
    }

    /** The second half of {@link #lookup}: what slot {@code slot} holds now. */
    long slot(final int slot) {
        return slots.get(slot);
    }

    /**
     * Sets the next hop of {@code route}; returns when no core can read the old one. The old slot
     * is reused immediately. The whole update path is this method. Call it from outside the
     * machine's cores: a core blocked on this method's lock would take no calls, and the update
     * holding it waits for every core.
     */
    public synchronized void update(final int route, final long nextHop) {
        final int fresh = allocate();
        slots.set(fresh, nextHop); // before the call: the call publishes it to every core
        caches.invokeOnAll(cache -> cache[route] = fresh); // every core, and wait for each
        // Safe only because invokeOnAll returned: no core can be between its cache and an old slot.
        switchedEverywhere(route, fresh);
    }

    /**
     * Every core points {@code route} at {@code fresh} now: none can read its old slot, nor what a
     * timed-out update retired, so they are freed. Guarded by this.
     */
    private void switchedEverywhere(final int route, final int fresh) {
        final int old = slotOf[route];
        if (old >= 0) {
            free(old);
        }
        for (final int r : retired.get(route)) {
            free(r);
        }
        retired.get(route).clear();
        slotOf[route] = fresh;
    }

    /**
     * Sets the next hop of {@code route} within {@code deadline}. Returns the cores that took the
     * new route: all of them if the switch reached every core in time (then as {@link #update(int,
     * long)}); otherwise those that ran it, and the old slot is retired instead of freed: a core
     * the deadline cancelled ({@link CallTimeoutException#cancelled()}) never runs the switch and
     * keeps reading the old next hop, and one still running it ({@code running()}) may be between
     * its cache and the old slot. The next full update of the route frees what is retired.
     *
     * @return the cores that read the new next hop from now on
     */
    public synchronized CpuSet update(final int route, final long nextHop, final Duration deadline) {
        final int fresh = allocate();
        slots.set(fresh, nextHop);
        try {
            smp.withDeadline(deadline).onEachCore(cpu -> caches.local()[route] = fresh); // local(): core cpu's cache
        } catch (CallTimeoutException e) {
            final int old = slotOf[route];
            if (old >= 0) {
                retired.get(route).add(old); // still a real next hop: a cancelled core reads it, never FREED
            }
            slotOf[route] = fresh;
            return e.ran(); // e.cancelled() never switch; e.running() switch on their own
        }
        switchedEverywhere(route, fresh);
        return CpuSet.firstN(machine.coreCount());
    }

    private void free(final int slot) {
        slots.set(slot, FREED);
        slotFree[slot] = true;
    }

    private int allocate() {
        for (int f = 0; f < SLOTS; f++) {
            if (slotFree[f]) {
                slotFree[f] = false;
                return f;
            }
        }
        throw new IllegalStateException("no free slot");
    }

    public Machine machine() {
        return machine;
    }

    @Override
    public void close() {
        machine.close();
    }

    /** Result of a run: lookups made, lookups that saw a freed slot, and stale-after-return ones. */
    record Outcome(long lookups, long sawFreedSlot, long staleAfterReturn, long updates) {
    }

    /** Readers on every core look up routes while the main thread keeps updating them. */
    static Outcome run(final int cores, final int updates) {
        try (RoutingTable table = new RoutingTable(cores)) {
            final AtomicLong published = new AtomicLong(-1); // route*1e9 + hop of the last returned update
            final AtomicLong lookups = new AtomicLong();
            final AtomicLong freed = new AtomicLong();
            final AtomicLong stale = new AtomicLong();
            final AtomicBoolean stop = new AtomicBoolean();
            final List<CompletableFuture<Void>> readers = new ArrayList<>();
            final CountDownLatch reading = new CountDownLatch(cores);
            for (final Core core : table.machine().cores()) {
                readers.add(core.submit(() -> {
                    reading.countDown();
                    long n = 0;
                    while (!stop.get()) {
                        final long last = published.get();
                        if (last >= 0) {
                            final int route = (int) (last / 1_000_000_000L);
                            final long hop = last % 1_000_000_000L;
                            final long seen = table.lookup(route);
                            if (seen == FREED) {
                                freed.incrementAndGet();
                            } else if (seen < hop) { // hops only grow: an older hop is stale
                                stale.incrementAndGet();
                            }
                        }
                        table.lookup((int) (n % ROUTES));
                        n++;
                        Core.current().checkpoint(); // where this core takes the updates' calls
                    }
                    lookups.addAndGet(n);
                }));
            }
            // Updates race with readers that run: on a loaded host a reader could otherwise start
            // only after the last update and look up nothing.
            try {
                if (!reading.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("readers did not start");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            for (int i = 0; i < updates; i++) {
                final int route = i % ROUTES;
                final long hop = 2000 + i;
                table.update(route, hop);
                published.set(route * 1_000_000_000L + hop);
            }
            stop.set(true);
            CompletableFuture.allOf(readers.toArray(new CompletableFuture[0])).join();
            return new Outcome(lookups.get(), freed.get(), stale.get(), updates);
        }
    }

    public static void main(final String[] args) {
        final int cores = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        final Outcome o = run(cores, args.length > 1 ? Integer.parseInt(args[1]) : 500);
        System.out.printf("%d cores (%d host CPUs): %d route updates, %d lookups%n", cores, Machine.hostCpus(),
            o.updates(), o.lookups());
        System.out.printf("lookups that read a freed slot: %d; stale routes after an update returned: %d%n",
            o.sawFreedSlot(), o.staleAfterReturn());
        if (o.sawFreedSlot() != 0 || o.staleAfterReturn() != 0) {
            throw new IllegalStateException("coherence broken");
        }
    }
}
