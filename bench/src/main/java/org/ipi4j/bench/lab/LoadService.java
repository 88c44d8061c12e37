package org.ipi4j.bench.lab;

import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.shard.ShardFunction;
import org.ipi4j.shard.Sharded;
import org.ipi4j.smp.CoreAction;
import org.ipi4j.smp.SmpCall;

/**
 * A service the load curve ({@link LoadPart}) offers requests to, from several caller threads at
 * once; one responder thread serves it, waiting by spinning (the one-core ipi4j machine's idle
 * policy, the Disruptor's busy-spin wait strategy) except the executor, whose worker parks as
 * {@code ThreadPoolExecutor}'s does. Services with back-pressure block their callers rather than
 * refuse (the IPI's mailbox under {@link OverflowPolicy#BLOCK}, the Disruptor's full ring).
 * Thread-safe for concurrent callers, each with its own {@link #requests}.
 */
abstract class LoadService implements AutoCloseable {
    /** Every service, in report order. */
    static final List<String> NAMES = List.of("ipi", "call", "call-async", "sharded", "disruptor", "executor");
    private static final Vector V = Vector.of(0x41);
    private static final CoreAction NOTHING = cpu -> { };

    /** Where completions are recorded: latency from the request's intended send time. */
    interface Sink {
        /** A request intended at {@code intendedNanos} ({@code System.nanoTime}) completed now. */
        void done(long intendedNanos);

        /** A request failed: counted apart, never as a completion. */
        void failed(Throwable failure);
    }

    /** One caller's way of sending; not thread-safe, one per caller. */
    interface Requests {
        /** Sends one request stamped {@code intendedNanos}; a waited service returns once it completed. */
        void send(long intendedNanos);
    }

    private final String name;

    LoadService(final String name) {
        this.name = name;
    }

    String name() {
        return name;
    }

    /** {@return "ipi4j" for the library's services, "peer" for the others} */
    static String family(final String name) {
        return name.equals("disruptor") || name.equals("executor") ? "peer" : "ipi4j";
    }

    /** {@return host threads serving requests (with the callers, whether the host is oversubscribed)} */
    int responderThreads() {
        return 1;
    }

    /** {@return a caller's way of sending, with at most {@code outstanding} async requests in flight} */
    abstract Requests requests(int outstanding, Sink sink);

    @Override
    public abstract void close();

    /** A started service, by name. */
    static LoadService create(final String name) {
        return switch (name) {
            case "ipi" -> new Ipi();
            case "call" -> new Call(false);
            case "call-async" -> new Call(true);
            case "sharded" -> new ShardedInvoke();
            case "disruptor" -> new DisruptorService();
            case "executor" -> new Executor();
            default -> throw new IllegalArgumentException("unknown load service " + name + "; known: " + NAMES);
        };
    }

    /**
     * An async request, reused: the caller stamps it and marks it busy, the service runs it once
     * when the request completes, which records it and frees it.
     */
    static final class Request implements Runnable, BiConsumer<Object, Throwable> {
        private final Sink sink;
        long intended;
        /**
         * Set by the caller before the request is handed over, cleared by {@link #run} after the
         * completion was recorded. Partner: the caller's read in {@link Ring#send} before it
         * rewrites {@code intended}, so that rewrite happens after the completer's read of it.
         */
        volatile boolean busy;

        Request(final Sink sink) {
            this.sink = sink;
        }

        @Override
        public void run() {
            sink.done(intended);
            busy = false;
        }

        @Override
        public void accept(final Object ignored, final Throwable failure) {
            if (failure != null) {
                sink.failed(failure); // not a completion: counted apart, and the request freed
                busy = false;
            } else {
                run();
            }
        }
    }

    /** A caller's ring of reusable async requests; it waits for the oldest when all are in flight. */
    abstract static class Ring implements Requests {
        private final Request[] requests;
        private long next;

        Ring(final int outstanding, final Sink sink) {
            requests = new Request[Integer.highestOneBit(Math.max(1, outstanding))];
            for (int i = 0; i < requests.length; i++) {
                requests[i] = new Request(sink);
            }
        }

        @Override
        public final void send(final long intendedNanos) {
            final Request r = requests[(int) (next++ & (requests.length - 1))];
            while (r.busy) { // the oldest is still in flight: the generator is bounded, and the wait is charged
                Thread.yield(); // on an oversubscribed host the responder may need this CPU
            }
            r.intended = intendedNanos;
            r.busy = true;
            submit(r);
        }

        abstract void submit(Request r);
    }

    /** A one-core ipi4j machine that spins; an IPI carries the request as its payload, the handler completes it. */
    static final class Ipi extends LoadService {
        private final Machine machine;

        Ipi() {
            super("ipi");
            machine = Machine.builder().name("load-ipi").cores(1).idlePolicy(IdlePolicy.spin()).pinning(Pinning.NONE)
                .overflowPolicy(OverflowPolicy.BLOCK).build().start();
            machine.interrupts().register(V, irq -> {
                for (final Object p : irq.payloads()) { // coalesced sends arrive as one entry with every payload
                    ((Request) p).run();
                }
            });
        }

        @Override
        Requests requests(final int outstanding, final Sink sink) {
            return new Ring(outstanding, sink) {
                @Override
                void submit(final Request r) {
                    machine.interrupts().send(0, V, r);
                }
            };
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /** A cross-core call to a one-core machine that spins: waited ({@code SmpCall.run}) or async ({@code runAsync}). */
    static final class Call extends LoadService {
        private final Machine machine;
        private final SmpCall smp;
        private final boolean async;

        Call(final boolean async) {
            super(async ? "call-async" : "call");
            this.async = async;
            machine = Machine.builder().name("load-call").cores(1).idlePolicy(IdlePolicy.spin()).pinning(Pinning.NONE)
                .build().start();
            smp = SmpCall.install(machine);
        }

        @Override
        Requests requests(final int outstanding, final Sink sink) {
            if (!async) {
                return intended -> {
                    smp.run(0, NOTHING);
                    sink.done(intended);
                };
            }
            return new Ring(outstanding, sink) {
                @Override
                void submit(final Request r) {
                    smp.runAsync(0, NOTHING).whenComplete(r);
                }
            };
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /** {@code Sharded.invokeOn}, waited, to the one shard of a one-core machine that spins. */
    static final class ShardedInvoke extends LoadService {
        private static final ShardFunction<long[], Void> INCREMENT = shard -> {
            shard[0]++;
            return null;
        };
        private final Machine machine;
        private final Sharded<long[]> sharded;

        ShardedInvoke() {
            super("sharded");
            machine = Machine.builder().name("load-sharded").cores(1).idlePolicy(IdlePolicy.spin())
                .pinning(Pinning.NONE).build().start();
            sharded = Sharded.start(SmpCall.install(machine), cpu -> new long[1]);
        }

        @Override
        Requests requests(final int outstanding, final Sink sink) {
            return intended -> {
                sharded.invokeOn(0, INCREMENT);
                sink.done(intended);
            };
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /** The LMAX Disruptor, multi-producer, one handler that busy-spins; the event carries the request. */
    static final class DisruptorService extends LoadService {
        static final class Event {
            Request request;
        }

        private final Disruptor<Event> disruptor;
        private final RingBuffer<Event> ring;

        DisruptorService() {
            super("disruptor");
            disruptor = new Disruptor<>(Event::new, 1024, r -> {
                final Thread t = new Thread(r, "load-disruptor");
                t.setDaemon(true);
                return t;
            }, ProducerType.MULTI, new BusySpinWaitStrategy());
            disruptor.handleEventsWith((event, sequence, endOfBatch) -> event.request.run());
            ring = disruptor.start();
        }

        @Override
        Requests requests(final int outstanding, final Sink sink) {
            return new Ring(outstanding, sink) {
                @Override
                void submit(final Request r) {
                    final long n = ring.next(); // a full ring makes the caller wait: the Disruptor's back-pressure
                    ring.get(n).request = r;
                    ring.publish(n);
                }
            };
        }

        @Override
        public void close() {
            disruptor.halt();
        }
    }

    /** A one-thread {@code ThreadPoolExecutor} with an unbounded queue; its worker parks when idle. */
    static final class Executor extends LoadService {
        private final ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(), r -> {
                final Thread t = new Thread(r, "load-executor");
                t.setDaemon(true);
                return t;
            });

        Executor() {
            super("executor");
        }

        @Override
        Requests requests(final int outstanding, final Sink sink) {
            return new Ring(outstanding, sink) {
                @Override
                void submit(final Request r) {
                    executor.execute(r);
                }
            };
        }

        @Override
        public void close() {
            executor.shutdownNow();
        }
    }
}
