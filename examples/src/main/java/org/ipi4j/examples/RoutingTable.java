package org.ipi4j.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.SmpCall;

/**
 * A routing table that every core caches privately, kept coherent by TLB shootdown.
 *
 * <p>Route {@code r} is virtual page {@code r}; its next hop lives in the physical frame the page
 * maps to. Lookups on a core go through that core's TLB (its private cache) and take no lock. An
 * update writes the new next hop into a fresh frame and remaps the page: {@link #update} returns
 * only when no core can still read the old frame, so the old frame can be reused at once, which
 * is exactly why an OS waits for shootdown before freeing a page.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java -Dexample=RoutingTable}.
 */
public final class RoutingTable implements AutoCloseable {
    private static final int ROUTES = 16;
    private static final int FRAMES = 64;

    private final Machine machine;
    private final Mmu mmu;
    private final AddressSpace routes;
    private final boolean[] frameFree = new boolean[FRAMES];
    private final int[] frameOf = new int[ROUTES];

    public RoutingTable(final int cores) {
        machine = Machine.builder().name("routing").cores(cores).idlePolicy(IdlePolicy.adaptive())
            .memoryWords(FRAMES * 8).build().start();
        mmu = Mmu.builder(SmpCall.install(machine)).pageWords(8).detectStale(true).build();
        routes = mmu.newAddressSpace(ROUTES);
        java.util.Arrays.fill(frameFree, true);
        for (int r = 0; r < ROUTES; r++) {
            frameOf[r] = -1;
            update(r, 1000 + r);
        }
    }

    /** Next hop of {@code route}, through the calling core's TLB. Call from a core. */
    public long lookup(final int route) {
        return mmu.read(routes, (long) route * mmu.pageWords());
    }

    /**
     * Sets the next hop of {@code route}; returns when no core can read the old one. The old
     * frame is reused immediately.
     */
    public synchronized void update(final int route, final long nextHop) {
        final int fresh = allocate();
        machine.memory().storeRelease((long) fresh * mmu.pageWords(), nextHop);
        routes.map(route, fresh, Pte.READ); // remap: shootdown, then return
        if (frameOf[route] >= 0) {
            // Safe only because map() returned: nobody can translate to it any more.
            machine.memory().store((long) frameOf[route] * mmu.pageWords(), -1);
            frameFree[frameOf[route]] = true;
        }
        frameOf[route] = fresh;
    }

    private int allocate() {
        for (int f = 1; f < FRAMES; f++) {
            if (frameFree[f]) {
                frameFree[f] = false;
                return f;
            }
        }
        throw new IllegalStateException("no free frame");
    }

    public Machine machine() {
        return machine;
    }

    public AddressSpace routes() {
        return routes;
    }

    @Override
    public void close() {
        machine.close();
    }

    /** Result of a run: lookups made, lookups that saw a freed frame (-1), and stale-after-return ones. */
    record Outcome(long lookups, long sawFreedFrame, long staleAfterReturn, long updates) {
    }

    /** Readers on every core look up routes while the main thread keeps updating them. */
    static Outcome run(final int cores, final int updates) {
        try (RoutingTable table = new RoutingTable(cores)) {
            final AtomicLong published = new AtomicLong(-1); // route*1e9 + hop of the last returned update
            final AtomicLong lookups = new AtomicLong();
            final AtomicLong freed = new AtomicLong();
            final AtomicLong stale = new AtomicLong();
            final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            final List<CompletableFuture<Void>> readers = new ArrayList<>();
            final java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(cores);
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
                            if (seen == -1) {
                                freed.incrementAndGet();
                            } else if (seen < hop) { // hops only grow: an older hop is stale
                                stale.incrementAndGet();
                            }
                        }
                        table.lookup((int) (n % ROUTES));
                        n++;
                        Core.current().checkpoint(); // where this core takes shootdown IPIs
                    }
                    lookups.addAndGet(n);
                }));
            }
            // Updates race with readers that run: on a loaded host a reader could otherwise start
            // only after the last update and look up nothing.
            try {
                if (!reading.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
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
            return new Outcome(lookups.get(), freed.get(), stale.get() + table.routes().stats().violations(), updates);
        }
    }

    public static void main(final String[] args) {
        final int cores = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        final Outcome o = run(cores, args.length > 1 ? Integer.parseInt(args[1]) : 500);
        System.out.printf("%d cores (%d host CPUs): %d route updates, %d lookups%n", cores, Machine.hostCpus(),
            o.updates(), o.lookups());
        System.out.printf("lookups that read a freed frame: %d; stale routes after an update returned: %d%n",
            o.sawFreedFrame(), o.staleAfterReturn());
        if (o.sawFreedFrame() != 0 || o.staleAfterReturn() != 0) {
            throw new IllegalStateException("coherence broken");
        }
    }
}
