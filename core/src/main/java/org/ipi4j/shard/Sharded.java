package org.ipi4j.shard;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

import org.ipi4j.CallerLocal;
import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.CallFunction;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.smp.SmpCallException;

/**
 * One instance of a service per core, as Seastar's {@code sharded<T>}: each made on its own core
 * by the factory, and touched only on that core, by the functions this class runs there with a
 * cross-core call. Nothing is locked: a core's instance is its own.
 *
 * <pre>{@code
 * Sharded<Map<String, String>> shards = Sharded.start(smp, cpu -> new HashMap<>());
 * KeyRouter router = shards.router();
 * shards.invokeOn(router.route(key), map -> map.put(key, value));
 * int size = shards.mapReduce(Map::size, 0, Integer::sum);
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Instance {@code i} is made on core {@code i}, and every function given an instance runs on
 *       that instance's core: no two threads ever touch one instance.</li>
 *   <li>Ordering is the cross-call's: everything the caller did before a call happens-before the
 *       function runs; everything the function did happens-before the call returns or its future
 *       completes. The functions run in interrupt context ({@link SmpCall}'s rules: short, no
 *       waiting for other cores). An exception thrown by a function reaches the caller inside an
 *       {@link SmpCallException}.</li>
 *   <li>The waited {@link #invokeOn} allocates nothing in steady state: each caller reuses one
 *       invocation object (one per core, one per outside thread), as {@link SmpCall#call} does;
 *       after a call that failed it gets a fresh one (the failed call may still run later).</li>
 *   <li>Bad input is refused before anything is sent: a null function, a core outside the
 *       machine, and any use after {@link #close()} ({@link IllegalStateException}, also on the
 *       target core for a call already on its way when the instance was closed).</li>
 *   <li>{@link #close()} closes the instances that are {@link AutoCloseable}, each on its own core;
 *       shutdown does it too, before the cores stop, for every {@code Sharded} not closed yet, in
 *       reverse order of creation (one made on top of another's services stops first), within the
 *       shutdown's timeout: a core that does not answer in time is recorded as an oops, and the
 *       wait for it is time the shutdown no longer has for the other cores. A {@code Sharded}
 *       whose instances are not closeable costs the shutdown nothing. A simulated machine's
 *       shutdown does not reach the cores: close them inside the simulation's run.</li>
 * </ul>
 * Thread-safe: any thread or core may call any method.
 *
 * @param <T> the instance type
 */
public final class Sharded<T> implements AutoCloseable {
    /** What a core's slot holds once its instance was closed: later functions there are refused. */
    private static final Object CLOSED = new Object();

    private final SmpCall smp;
    private final Machine machine;
    /** Slot {@code i} is written and read on core {@code i} only (made there, used there, closed there). */
    private final Object[] instances;
    private final KeyRouter router;
    /** Each caller's reusable invocation for waited calls. */
    private final CallerLocal<Invocation> invocations;
    private final AtomicBoolean closed = new AtomicBoolean(); // the first close() wins; later calls are refused
    /** The instances' class name, for messages; written on core 0 before the construction call returns. */
    private volatile String type = "?";
    /** True if any instance is {@link AutoCloseable}: only then does shutdown spend time on them. */
    private volatile boolean closeable;

    private Sharded(final SmpCall smp) {
        this.smp = smp;
        this.machine = smp.machine();
        this.instances = new Object[machine.coreCount()];
        this.router = new KeyRouter(instances.length);
        this.invocations = new CallerLocal<>(machine, Invocation::new);
    }

    /**
     * Makes one instance per core of {@code smp}'s machine, each on its own core (with a waited
     * {@link SmpCall#onEachCore}), and registers their closing at shutdown. If the factory fails on
     * any core, the instances made on the others are closed and the failure is thrown.
     *
     * @param smp the cross-core calls to reach the cores with
     * @param factory makes core {@code cpu}'s instance, on core {@code cpu}, given its id; must not return null
     * @param <T> the instance type
     * @return the sharded service
     * @throws SmpCallException if the factory threw or returned null on some core
     */
    public static <T> Sharded<T> start(final SmpCall smp, final IntFunction<? extends T> factory) {
        Objects.requireNonNull(smp, "smp");
        Objects.requireNonNull(factory, "factory");
        if (smp.machine().core(0).state() == Core.State.NEW) { // its calls would wait for cores that never run
            throw new IllegalStateException("machine " + smp.machine().name() + " is not started: start it before "
                + "Sharded.start makes an instance on each of its cores");
        }
        final Sharded<T> s = new Sharded<>(smp);
        try {
            smp.onEachCore(cpu -> {
                final T made = factory.apply(cpu);
                if (made == null) {
                    throw new IllegalStateException("the factory returned null on core " + cpu);
                }
                s.instances[cpu] = made;
                if (made instanceof AutoCloseable) {
                    s.closeable = true;
                }
                if (cpu == 0) {
                    s.type = made.getClass().getName(); // both volatile: any thread's message may read them
                }
            });
        } catch (RuntimeException e) {
            s.closeAfterFailedStart(e); // the instances that were made
            throw e;
        }
        try {
            s.machine.beforeShutdown(s::stopAtShutdown);
        } catch (MachineClosedException e) { // the shutdown began while we made them: close them ourselves
            s.closeAfterFailedStart(e);
            throw e;
        }
        return s;
    }

    /** A start that fails closes what it made, once; a failure to close is suppressed in {@code e}. */
    private void closeAfterFailedStart(final RuntimeException e) {
        if (closed.compareAndSet(false, true)) {
            try {
                smp.onEachCore(this::closeOn);
            } catch (RuntimeException second) {
                e.addSuppressed(second);
            }
        }
    }

    /** {@return how many instances: the machine's core count} */
    public int shards() {
        return instances.length;
    }

    /** {@return the router of keys to this service's cores (stable for its core count)} */
    public KeyRouter router() {
        return router;
    }

    /**
     * Runs {@code fn} on core {@code cpu}'s instance, waits, and returns its result. Allocates
     * nothing in steady state.
     *
     * @param cpu the core's id, 0 to {@link #shards()} - 1
     * @param fn what to run on the instance
     * @param <R> the result type
     * @return what {@code fn} returned
     * @throws IllegalArgumentException if the core does not exist
     * @throws IllegalStateException if this is closed, or waiting here is a deadlock hazard
     * @throws SmpCallException if {@code fn} threw
     */
    @SuppressWarnings("unchecked")
    public <R> R invokeOn(final int cpu, final ShardFunction<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "fn");
        machine.core(cpu); // throws, naming the core, for one outside the machine
        checkOpen();
        Invocation inv = invocations.get();
        if (inv.inUse) {
            inv = new Invocation(); // a nested call from a function run locally
        }
        inv.inUse = true;
        inv.fn = fn;
        boolean answered = false;
        try {
            final R result = (R) smp.call(cpu, inv);
            answered = true;
            return result;
        } finally {
            if (answered) {
                inv.fn = null;
                inv.inUse = false;
            } else {
                invocations.abandon(inv); // a call that failed may still run: it keeps this one
            }
        }
    }

    /**
     * Runs {@code fn} on core {@code cpu}'s instance and returns at once; the future completes with
     * its result. Allocates the call and its future.
     *
     * @param cpu the core's id, 0 to {@link #shards()} - 1
     * @param fn what to run on the instance
     * @param <R> the result type
     * @return the call's future
     * @throws IllegalArgumentException if the core does not exist
     * @throws IllegalStateException if this is closed
     */
    public <R> CallCompletion<R> invokeOnAsync(final int cpu, final ShardFunction<? super T, ? extends R> fn) {
        Objects.requireNonNull(fn, "fn");
        machine.core(cpu);
        checkOpen();
        return smp.callAsync(cpu, c -> fn.apply(instanceOn(c)));
    }

    /**
     * Runs {@code action} on every core's instance and waits.
     *
     * @param action what to run on each instance
     * @throws IllegalStateException if this is closed, or waiting here is a deadlock hazard
     * @throws SmpCallException if {@code action} threw on any core
     */
    public void invokeOnAll(final ShardAction<? super T> action) {
        Objects.requireNonNull(action, "action");
        checkOpen();
        smp.onEachCore(c -> action.run(instanceOn(c)));
    }

    /**
     * Runs {@code action} on every core's instance and returns at once.
     *
     * @param action what to run on each instance
     * @return a future that completes when every core ran it
     * @throws IllegalStateException if this is closed
     */
    public CallCompletion<Void> invokeOnAllAsync(final ShardAction<? super T> action) {
        Objects.requireNonNull(action, "action");
        checkOpen();
        return smp.onEachCoreAsync(c -> action.run(instanceOn(c)));
    }

    /**
     * Runs {@code mapper} on every core's instance, waits, and folds the results into
     * {@code initial} with {@code reducer} on the calling thread, in core-id order.
     *
     * @param mapper what to run on each instance
     * @param initial the fold's starting value
     * @param reducer folds one core's result into the value so far
     * @param <R> the mapper's result type
     * @param <A> the folded type
     * @return the folded value
     * @throws IllegalStateException if this is closed, or waiting here is a deadlock hazard
     * @throws SmpCallException if {@code mapper} threw on any core
     */
    public <R, A> A mapReduce(final ShardFunction<? super T, ? extends R> mapper, final A initial,
                              final BiFunction<? super A, ? super R, ? extends A> reducer) {
        Objects.requireNonNull(mapper, "mapper");
        Objects.requireNonNull(reducer, "reducer");
        checkOpen();
        final Object[] results = new Object[instances.length];
        smp.onEachCore(c -> results[c] = mapper.apply(instanceOn(c)));
        return fold(results, initial, reducer);
    }

    /**
     * {@link #mapReduce} without waiting: the fold runs where the last core's answer completes the
     * call (on that core, in interrupt context, unless the caller's stage is added with an
     * {@code *Async} method), so it must be short.
     *
     * @param mapper what to run on each instance
     * @param initial the fold's starting value
     * @param reducer folds one core's result into the value so far
     * @param <R> the mapper's result type
     * @param <A> the folded type
     * @return a future of the folded value
     * @throws IllegalStateException if this is closed
     */
    public <R, A> CompletableFuture<A> mapReduceAsync(final ShardFunction<? super T, ? extends R> mapper, final A initial,
                                                      final BiFunction<? super A, ? super R, ? extends A> reducer) {
        Objects.requireNonNull(mapper, "mapper");
        Objects.requireNonNull(reducer, "reducer");
        checkOpen();
        final Object[] results = new Object[instances.length];
        return smp.onEachCoreAsync(c -> results[c] = mapper.apply(instanceOn(c)))
            .thenApply(none -> fold(results, initial, reducer)); // the completion publishes every result
    }

    /**
     * The calling core's instance, for code already running on a core of the machine (a task, a
     * handler, a timer) that wants its own shard without a call.
     *
     * @return the calling core's instance
     * @throws IllegalStateException if the caller is not one of the machine's cores, or this is closed
     */
    public T local() {
        final Core self = machine.currentCore();
        if (self == null) {
            throw new IllegalStateException("local() of " + this + " called from " + Thread.currentThread().getName()
                + ", not from a core of machine " + machine.name());
        }
        return instanceOn(self.id());
    }

    /** {@return true once {@link #close()} was called (or shutdown closed it)} */
    public boolean isClosed() {
        return closed.get();
    }

    /**
     * Closes every instance that is {@link AutoCloseable} on its own core, and waits; later calls
     * are refused. Idempotent: only the first call closes.
     *
     * @throws SmpCallException if an instance's {@code close} threw (the others are closed all the same)
     * @throws IllegalStateException if waiting here is a deadlock hazard (a handler, a call's function,
     *         interrupts off): refused before anything changes, so a later close still closes
     * @throws MachineClosedException if the machine no longer takes calls (a handler halted it);
     *         after a shutdown this returns quietly: the shutdown closed them
     */
    public void close() {
        if (closed.get()) {
            return;
        }
        smp.checkMayWait(); // refused where waiting is a deadlock hazard: before the flag, which would stay set
        if (closed.compareAndSet(false, true)) {
            smp.onEachCore(this::closeOn);
        }
    }

    /** The machine's before-shutdown hook: closes what {@link #close()} would, within {@code left}. */
    private void stopAtShutdown(final Duration left) {
        if (!closed.compareAndSet(false, true) || !closeable || machine.simulation() != null || machine.isClosed()) {
            return; // nothing to close, or a machine a handler halted (FaultPolicy.HALT_MACHINE): no more calls
        }
        if (left.isNegative() || left.isZero()) {
            throw new IllegalStateException(this + ": no time left in the shutdown to close its instances");
        }
        // Through a view with the time left as its deadline: waiting for queue or group room on a
        // full, stuck core ends there too, and a core that has not started closing by then never will.
        final CallCompletion<Void> done = smp.withDeadline(left).onEachCoreAsync(this::closeOn);
        try {
            done.get(left.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(this + ": not every core closed its instance within the shutdown's "
                + left.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.ipi4j.smp.CallTimeoutException) {
                throw new IllegalStateException(this + ": not every core closed its instance within the shutdown's "
                    + left.toMillis() + " ms", e.getCause());
            }
            throw new IllegalStateException(this + ": closing an instance failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** On core {@code cpu}: closes its instance if it is closeable, and refuses every later use there. */
    private void closeOn(final int cpu) throws Exception {
        final Object o = instances[cpu];
        instances[cpu] = CLOSED;
        if (o instanceof AutoCloseable c) {
            c.close();
        }
    }

    /** Core {@code cpu}'s instance, on core {@code cpu} (the only place it is touched). */
    @SuppressWarnings("unchecked")
    private T instanceOn(final int cpu) {
        assert onCore(cpu) : "instance of core " + cpu + " touched from " + Thread.currentThread().getName();
        final Object o = instances[cpu];
        if (o == CLOSED || o == null) {
            throw new IllegalStateException(this + " is closed: core " + cpu + "'s instance is gone");
        }
        return (T) o;
    }

    private boolean onCore(final int cpu) {
        final Core self = machine.currentCore();
        return self != null && self.id() == cpu;
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static <R, A> A fold(final Object[] results, final A initial,
                                 final BiFunction<? super A, ? super R, ? extends A> reducer) {
        A acc = initial;
        for (final Object r : results) {
            @SuppressWarnings("unchecked")
            final R one = (R) r;
            acc = reducer.apply(acc, one);
        }
        return acc;
    }

    @Override
    public String toString() {
        return "Sharded<" + type + ">[" + instances.length + " cores of " + machine.name() + "]";
    }

    /** A caller's reusable function for waited calls: its fields are written before the call (published by it). */
    private final class Invocation implements CallFunction<Object> {
        ShardFunction<? super T, ?> fn;
        boolean inUse;

        @Override
        public Object apply(final int cpu) throws Exception {
            return fn.apply(instanceOn(cpu));
        }
    }
}
