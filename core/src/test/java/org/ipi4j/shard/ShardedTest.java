package org.ipi4j.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.smp.SmpCallException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Sharded}: each promise of its Javadoc, and {@link KeyRouter}'s. */
@Timeout(60)
class ShardedTest {
    /** A per-core service that remembers where it was made, and checks every use is on that core. */
    static final class Counter implements AutoCloseable {
        final int madeOn;
        long value;
        final List<String> closed;

        Counter(final int cpu, final List<String> closed) {
            this.madeOn = Core.current().id();
            assertThat(madeOn).isEqualTo(cpu);
            this.closed = closed;
        }

        long add(final long n) {
            assertThat(Core.current().id()).as("touched on its own core").isEqualTo(madeOn);
            return value += n;
        }

        @Override
        public void close() {
            assertThat(Core.current().id()).as("closed on its own core").isEqualTo(madeOn);
            closed.add("counter@" + madeOn);
        }
    }

    private static Machine machine(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start();
    }

    @RepeatedTest(3)
    void eachInstanceIsMadeAndUsedOnItsOwnCore() throws Exception {
        final List<String> closed = new CopyOnWriteArrayList<>();
        try (Machine m = machine(4)) {
            final SmpCall smp = SmpCall.install(m);
            final Sharded<Counter> s = Sharded.start(smp, cpu -> new Counter(cpu, closed));
            assertThat(s.shards()).isEqualTo(4);
            for (int cpu = 0; cpu < 4; cpu++) {
                final int c = cpu;
                final long added = s.invokeOn(cpu, x -> x.add(c + 1));
                final int madeOn = s.invokeOn(cpu, x -> x.madeOn);
                assertThat(added).isEqualTo(cpu + 1L);
                assertThat(madeOn).isEqualTo(cpu);
            }
            s.invokeOnAll(x -> x.add(10));
            final long sum = s.<Long, Long>mapReduce(x -> x.value, 0L, Long::sum);
            assertThat(sum).isEqualTo(1 + 2 + 3 + 4 + 40L);
            final List<Integer> order = s.<Integer, List<Integer>>mapReduce(x -> x.madeOn, new ArrayList<>(), (l, c) -> {
                l.add(c);
                return l;
            });
            assertThat(order).as("folded in core order").containsExactly(0, 1, 2, 3);
            // From a core: the local instance, and a call to another core.
            assertThat(m.core(2).submit(() -> s.local().madeOn).get(10, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(m.core(2).submit(() -> s.invokeOn(3, x -> x.madeOn)).get(10, TimeUnit.SECONDS)).isEqualTo(3);
            s.close();
            assertThat(closed).containsExactlyInAnyOrder("counter@0", "counter@1", "counter@2", "counter@3");
        }
    }

    @Test
    void theAsyncFormsCompleteWithTheirResults() throws Exception {
        try (Machine m = machine(3)) {
            final Sharded<Counter> s = Sharded.start(SmpCall.install(m), cpu -> new Counter(cpu, new ArrayList<>()));
            final CallCompletion<Long> one = s.invokeOnAsync(2, x -> x.add(5));
            assertThat(one.get(10, TimeUnit.SECONDS)).isEqualTo(5L);
            s.invokeOnAllAsync(x -> x.add(1)).get(10, TimeUnit.SECONDS);
            final long sum = s.<Long, Long>mapReduceAsync(x -> x.value, 0L, Long::sum).get(10, TimeUnit.SECONDS);
            assertThat(sum).isEqualTo(5 + 3L);
            final CallCompletion<Object> failed = s.invokeOnAsync(1, x -> {
                throw new IllegalStateException("fn threw");
            });
            assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS)).hasRootCauseMessage("fn threw");
        }
    }

    @Test
    void aFunctionThatThrowsReachesTheCallerAndTheNextCallWorks() {
        try (Machine m = machine(2)) {
            final Sharded<Counter> s = Sharded.start(SmpCall.install(m), cpu -> new Counter(cpu, new ArrayList<>()));
            assertThatThrownBy(() -> s.invokeOn(1, x -> {
                throw new IllegalArgumentException("no");
            })).isInstanceOf(SmpCallException.class).hasRootCauseMessage("no");
            final long after = s.invokeOn(1, x -> x.add(2));
            assertThat(after).isEqualTo(2L);
        }
    }

    @Test
    void aCallNestedInALocalFunctionGetsItsOwnInvocation() throws Exception {
        try (Machine m = machine(2)) {
            final Sharded<Counter> s = Sharded.start(SmpCall.install(m), cpu -> new Counter(cpu, new ArrayList<>()));
            // On core 0, a call to core 0 runs here; inside it, another call to core 0.
            final long r = m.core(0).submit(() -> s.invokeOn(0, outer -> outer.add(1) + s.invokeOn(0, inner -> inner.add(10))))
                .get(10, TimeUnit.SECONDS);
            assertThat(r).isEqualTo(1 + 11L);
            final long value = s.invokeOn(0, x -> x.value);
            assertThat(value).isEqualTo(11L);
        }
    }

    @Test
    void badInputIsNamedBeforeAnythingIsSent() {
        try (Machine m = machine(2)) {
            final SmpCall smp = SmpCall.install(m);
            final Sharded<Counter> s = Sharded.start(smp, cpu -> new Counter(cpu, new ArrayList<>()));
            final long ipis = smp.ipisSent();
            assertThatThrownBy(() -> s.invokeOn(7, x -> 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("core 7");
            assertThatThrownBy(() -> s.invokeOnAsync(-1, x -> 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("core -1");
            assertThatThrownBy(() -> s.invokeOn(0, null)).isInstanceOf(NullPointerException.class).hasMessage("fn");
            assertThatThrownBy(() -> s.mapReduce(x -> 1, 0, null)).isInstanceOf(NullPointerException.class)
                .hasMessage("reducer");
            assertThatThrownBy(s::local).isInstanceOf(IllegalStateException.class).hasMessageContaining("not from a core");
            assertThat(smp.ipisSent()).isEqualTo(ipis);
            s.close();
            s.close(); // idempotent
            assertThat(s.isClosed()).isTrue();
            assertThatThrownBy(() -> s.invokeOn(1, x -> 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is closed");
            assertThatThrownBy(() -> s.invokeOnAll(x -> { })).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> s.mapReduceAsync(x -> 1, 0, Integer::sum)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aFactoryThatFailsOnOneCoreClosesWhatTheOthersMade() {
        final List<String> closed = new CopyOnWriteArrayList<>();
        try (Machine m = machine(3)) {
            final SmpCall smp = SmpCall.install(m);
            assertThatThrownBy(() -> Sharded.start(smp, cpu -> {
                if (cpu == 1) {
                    throw new IllegalStateException("core 1 cannot");
                }
                return new Counter(cpu, closed);
            })).isInstanceOf(SmpCallException.class).hasRootCauseMessage("core 1 cannot");
            assertThat(closed).containsExactlyInAnyOrder("counter@0", "counter@2");
            assertThatThrownBy(() -> Sharded.start(smp, cpu -> null)).isInstanceOf(SmpCallException.class)
                .hasRootCauseMessage("the factory returned null on core 0");
        }
    }

    @Test
    void shutdownClosesEveryShardedNotClosedYetOnItsCoresTheLastMadeFirst() {
        final List<String> closed = new CopyOnWriteArrayList<>();
        final Machine m = machine(2);
        final SmpCall smp = SmpCall.install(m);
        final Sharded<Counter> first = Sharded.start(smp, cpu -> new Counter(cpu, closed));
        final Sharded<AutoCloseable> second = Sharded.start(smp, cpu -> () -> closed.add("second@" + Core.current().id()));
        final Sharded<Map<String, String>> plain = Sharded.start(smp, cpu -> new HashMap<>()); // nothing to close
        assertThat(m.shutdown(Duration.ofSeconds(10)).isClean()).isTrue();
        assertThat(closed).hasSize(4);
        assertThat(closed.subList(0, 2)).containsExactlyInAnyOrder("second@0", "second@1");
        assertThat(closed.subList(2, 4)).containsExactlyInAnyOrder("counter@0", "counter@1");
        assertThat(first.isClosed()).isTrue();
        assertThat(second.isClosed()).isTrue();
        assertThat(plain.isClosed()).isTrue();
        assertThat(m.oopsRecorded()).isZero();
    }

    @Test
    void shutdownDoesNotWaitBeyondItsTimeoutForACoreThatDoesNotAnswer() throws Exception {
        final List<String> closed = new CopyOnWriteArrayList<>();
        final Machine m = machine(2);
        final Sharded<Counter> s = Sharded.start(SmpCall.install(m), cpu -> new Counter(cpu, closed));
        final CountDownLatch stuck = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        m.core(1).submit(() -> {
            stuck.countDown();
            release.await(); // takes no interrupt: the closing call cannot reach core 1
            return null;
        });
        assertThat(stuck.await(10, TimeUnit.SECONDS)).isTrue();
        try {
            m.shutdown(Duration.ofMillis(300));
            assertThat(closed).containsExactly("counter@0");
            assertThat(m.oopses()).anySatisfy(o -> assertThat(o.error()).hasMessageContaining("not every core closed"));
            assertThat(s.isClosed()).isTrue();
        } finally {
            release.countDown();
        }
    }

    @Test
    void theRouterIsStableInRangeAndSpreadsKeys() {
        final KeyRouter r = new KeyRouter(4);
        // Golden values: the mapping for a given core count is part of the contract (a change moves every stored key).
        assertThat(new int[] {r.route("a"), r.route("key-1"), r.route("key-2"), r.route(0L), r.route(12345L)})
            .containsExactly(2, 1, 1, 0, 3);
        assertThat(r.route("a")).isEqualTo(r.route((long) "a".hashCode()));
        final int[] perCore = new int[4];
        for (int i = 0; i < 40_000; i++) {
            final int c = r.route("key-" + i);
            assertThat(c).isBetween(0, 3);
            perCore[c]++;
        }
        for (final int n : perCore) {
            assertThat(n).isBetween(9_000, 11_000);
        }
        final int[] sequential = new int[3];
        for (long k = 0; k < 30_000; k++) {
            sequential[new KeyRouter(3).route(k << 32)]++; // keys differing only in high bits
        }
        for (final int n : sequential) {
            assertThat(n).isBetween(9_000, 11_000);
        }
        assertThat(new KeyRouter(1).route("anything")).isZero();
        assertThatThrownBy(() -> new KeyRouter(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shards");
        assertThatThrownBy(() -> r.route(null)).isInstanceOf(NullPointerException.class).hasMessage("key");
    }
}
