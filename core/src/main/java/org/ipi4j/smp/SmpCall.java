package org.ipi4j.smp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntPredicate;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Vector;
import org.jctools.queues.MpscUnboundedArrayQueue;

/**
 * Cross-core function calls, like Linux's {@code smp_call_function_single/many} and
 * {@code on_each_cpu}: "run this on core 3 and wait", "run this on every core".
 *
 * <h2>Protocol</h2>
 * Each core has a queue of call descriptors (JCTools MPSC) and the {@link Vector#CALL_FUNCTION}
 * vector. The caller queues a descriptor and sends the IPI only if the target's queue went from
 * empty to non-empty; the others coalesce, since the handler drains the whole queue. A call to the
 * caller's own core runs locally with interrupts disabled and no IPI; for a multi-core call the
 * local share runs after the IPIs are sent and before waiting, so it overlaps the remote work.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Everything the caller did before the call happens-before the function runs on each
 *       target; everything each target did in the function happens-before the call returns (with
 *       wait) or the returned future completes (without).</li>
 *   <li>Exceptions thrown by the function on any target reach the caller as an
 *       {@link SmpCallException} naming the cores.</li>
 *   <li>A wait never hangs silently: after the watchdog timeout the IPI is sent once more (in case
 *       a wake-up was missed); if a target still does not answer, {@link CallTimeoutException}
 *       reports what each silent core was doing.</li>
 *   <li>Waiting from an interrupt handler, or with interrupts disabled, for another core is a
 *       deadlock hazard (that core may be waiting for us) and fails at once with
 *       {@link IllegalStateException}. A core that waits with interrupts enabled keeps taking its
 *       own interrupts, so two cores calling each other do not deadlock.</li>
 * </ul>
 * The function runs in interrupt context on the target (kernel mode, interrupts disabled): it must
 * be short and must not wait for other cores. Dependent stages of a returned future run on the
 * core that completed it unless added with an {@code *Async} method. Thread-safe.
 */
public final class SmpCall {
    private final Machine machine;
    private final int cores;
    private final MpscUnboundedArrayQueue<Descriptor>[] queues;
    /** Descriptors queued and not yet finished, per core; 0 -> 1 is what sends an IPI. */
    private final AtomicIntegerArray queued;
    private final long watchdogNanos;
    private final Broadcast broadcast;
    private final LongAdder ipisSent = new LongAdder();
    private final LongAdder ipisCoalesced = new LongAdder();
    private final LongAdder localRuns = new LongAdder();
    private final LongAdder resends = new LongAdder();

    @SuppressWarnings("unchecked")
    private SmpCall(final Machine machine, final Duration watchdog, final Broadcast broadcast) {
        this.machine = machine;
        this.cores = machine.coreCount();
        this.watchdogNanos = watchdog.toNanos();
        this.broadcast = broadcast;
        this.queues = new MpscUnboundedArrayQueue[cores];
        for (int i = 0; i < cores; i++) {
            queues[i] = new MpscUnboundedArrayQueue<>(64);
        }
        this.queued = new AtomicIntegerArray(cores);
    }

    /** Installs cross-core calls on {@code machine} with a 5 s watchdog and flat broadcast. */
    public static SmpCall install(final Machine machine) {
        return install(machine, Duration.ofSeconds(5), Broadcast.flat());
    }

    /**
     * Installs cross-core calls on {@code machine}: registers the {@link Vector#CALL_FUNCTION}
     * handler. Once per machine.
     *
     * @param watchdog  how long a wait lasts before the IPI is re-sent, and again before giving up
     * @param broadcast default shape of multi-core calls
     * @throws IllegalStateException if the machine already has a call-function handler
     */
    public static SmpCall install(final Machine machine, final Duration watchdog, final Broadcast broadcast) {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(broadcast, "broadcast");
        if (watchdog.isNegative() || watchdog.isZero()) {
            throw new IllegalArgumentException("watchdog must be positive: " + watchdog);
        }
        final SmpCall smp = new SmpCall(machine, watchdog, broadcast);
        machine.interrupts().register(Vector.CALL_FUNCTION, smp::onCallFunction);
        return smp;
    }

    /** The machine this layer runs on. */
    public Machine machine() {
        return machine;
    }

    /** The default broadcast shape. */
    public Broadcast broadcast() {
        return broadcast;
    }

    /** Call-function IPIs sent (a target's queue went from empty to non-empty, or a re-send). */
    public long ipisSent() {
        return ipisSent.sum();
    }

    /** Descriptors queued behind others without an IPI of their own. */
    public long ipisCoalesced() {
        return ipisCoalesced.sum();
    }

    /** Calls (or shares of calls) run locally on the caller's own core. */
    public long localRuns() {
        return localRuns.sum();
    }

    /** IPIs re-sent by the watchdog. */
    public long watchdogResends() {
        return resends.sum();
    }

    // =====================================================================================
    // API
    // =====================================================================================

    /**
     * Runs {@code fn} on core {@code cpu}. With {@code wait}, returns after it ran (the returned
     * future is complete); without, returns at once.
     *
     * @throws IllegalArgumentException if the core does not exist
     * @throws SmpCallException         with wait, if {@code fn} threw
     * @throws CallTimeoutException     with wait, if the core did not answer
     */
    public CallCompletion<Void> single(final int cpu, final CoreAction fn, final boolean wait) {
        Objects.requireNonNull(fn, "fn");
        return call(cpu, c -> {
            fn.run(c);
            return null;
        }, wait);
    }

    /** Runs {@code fn} on core {@code cpu} and hands its result back; see {@link #single}. */
    public <T> CallCompletion<T> call(final int cpu, final CallFunction<T> fn, final boolean wait) {
        Objects.requireNonNull(fn, "fn");
        machine.core(cpu); // throws for a core outside the machine
        final Core self = self();
        final Call<T> call = new Call<>(fn, new int[] {cpu}, Broadcast.flat());
        if (self != null && self.id() == cpu) {
            runLocally(self, call);
            return finish(call, wait, self);
        }
        if (wait) {
            checkMayWait(self);
        }
        dispatch(call, self);
        return finish(call, wait, self);
    }

    /** Runs {@code fn} on every core in {@code cpus}, with the default broadcast. */
    public CallCompletion<Void> many(final CpuSet cpus, final CoreAction fn, final boolean wait) {
        return many(cpus, null, fn, wait, broadcast);
    }

    /**
     * Runs {@code fn} on every core in {@code cpus} for which {@code condition} (evaluated here,
     * per target, before sending; null for all) is true, reaching them with {@code shape}.
     */
    public CallCompletion<Void> many(final CpuSet cpus, final IntPredicate condition, final CoreAction fn,
                                        final boolean wait, final Broadcast shape) {
        Objects.requireNonNull(cpus, "cpus");
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(shape, "shape");
        machine.checkCores(cpus);
        final Core self = self();
        final List<Integer> remote = new ArrayList<>();
        final boolean[] local = {false};
        cpus.forEach(cpu -> {
            if (condition == null || condition.test(cpu)) {
                if (self != null && self.id() == cpu) {
                    local[0] = true;
                } else {
                    remote.add(cpu);
                }
            }
        });
        final int[] targets = new int[remote.size() + (local[0] ? 1 : 0)];
        for (int i = 0; i < remote.size(); i++) {
            targets[i] = remote.get(i);
        }
        if (local[0]) {
            targets[targets.length - 1] = self.id();
        }
        final Call<Void> call = new Call<>(c -> {
            fn.run(c);
            return null;
        }, targets, shape);
        call.remoteCount = remote.size();
        if (targets.length == 0) {
            call.future.complete(null); // nobody to call: done at once
            return call.future;
        }
        if (wait && !remote.isEmpty()) {
            checkMayWait(self);
        }
        if (!remote.isEmpty()) {
            dispatch(call, self);
        }
        if (local[0]) {
            runLocally(self, call); // overlaps with the remote targets
        }
        return finish(call, wait, self);
    }

    /** Runs {@code fn} on every core, the caller's own included or not. */
    public CallCompletion<Void> onEachCore(final CoreAction fn, final boolean includeSelf, final boolean wait) {
        final Core self = self();
        CpuSet all = CpuSet.firstN(cores);
        if (!includeSelf && self != null) {
            all = all.without(self.id());
        }
        return many(all, null, fn, wait, broadcast);
    }

    // =====================================================================================
    // Sending
    // =====================================================================================

    private void dispatch(final Call<?> call, final Core self) {
        switch (call.shape.kind()) {
            case FLAT -> {
                for (int i = 0; i < call.remoteCount; i++) {
                    enqueue(call, i, 1);
                }
            }
            case SERIAL -> enqueue(call, 0, 1); // each target passes the call on when done
            case TREE -> {
                for (int i = 0; i < Math.min(call.shape.fanout(), call.remoteCount); i++) {
                    enqueue(call, i, 1);
                }
            }
            default -> throw new IllegalStateException(call.shape.toString());
        }
    }

    /** Queues target {@code index} of {@code call}; fails that target's share if the machine is closed. */
    private void enqueue(final Call<?> call, final int index, final int level) {
        final int cpu = call.targets[index];
        if (machine.isClosed()) {
            failUnreached(call, index, new MachineClosedException("machine " + machine.name() + " is closed"));
            return;
        }
        queues[cpu].offer(new Descriptor(call, index, level));
        // Offer first, count second: a count that goes 0 -> 1 means the handler may have
        // finished its last poll, so it needs a new IPI; any other value means it will see us.
        if (queued.getAndIncrement(cpu) == 0) {
            try {
                machine.interrupts().send(cpu, Vector.CALL_FUNCTION, null);
                ipisSent.increment();
            } catch (MachineClosedException e) {
                // Our descriptor may still be drained if the core runs on; if not, the caller
                // learns of it through the watchdog or shutdown, never silently.
                failUnreached(call, index, e);
            }
        } else {
            ipisCoalesced.increment();
        }
    }

    private void failUnreached(final Call<?> call, final int index, final RuntimeException why) {
        call.complete(call.targets[index], null, why, 0);
    }

    // =====================================================================================
    // Receiving (interrupt context on the target)
    // =====================================================================================

    private void onCallFunction(final Interrupt irq) {
        final int cpu = irq.cpu();
        Descriptor d;
        while ((d = queues[cpu].poll()) != null) {
            final Call<?> call = d.call;
            if (call.shape.kind() == Broadcast.Kind.TREE) {
                // Forward before running, so the subtree works while we do.
                final int k = call.shape.fanout();
                final int first = (d.index + 1) * k;
                for (int j = first; j < Math.min(first + k, call.remoteCount); j++) {
                    enqueue(call, j, d.level + 1);
                }
            }
            Object result = null;
            Throwable failure = null;
            try {
                result = call.fn.apply(cpu);
            } catch (Throwable t) {
                failure = t;
            }
            // Leave the queue count before acknowledging, so that a caller who saw the ack and
            // calls again finds the count at zero and sends a fresh IPI.
            queued.getAndDecrement(cpu);
            call.complete(cpu, result, failure, d.level);
            if (call.shape.kind() == Broadcast.Kind.SERIAL && d.index + 1 < call.remoteCount) {
                enqueue(call, d.index + 1, d.level + 1);
            }
        }
    }

    private void runLocally(final Core self, final Call<?> call) {
        localRuns.increment();
        final boolean flags = self.disableInterrupts();
        Object result = null;
        Throwable failure = null;
        try {
            result = call.fn.apply(self.id());
        } catch (Throwable t) {
            failure = t;
        } finally {
            self.restoreInterrupts(flags);
        }
        call.complete(self.id(), result, failure, 0);
    }

    // =====================================================================================
    // Waiting
    // =====================================================================================

    private <T> CallCompletion<T> finish(final Call<T> call, final boolean wait, final Core self) {
        if (!wait) {
            return call.future;
        }
        await(call, self);
        return call.future;
    }

    private void await(final Call<?> call, final Core self) {
        long deadline = System.nanoTime() + watchdogNanos;
        boolean resent = false;
        int spins = 0;
        call.waiter = self; // published before we look at the future: see Call.complete
        while (!call.future.isDone()) {
            final long left = deadline - System.nanoTime();
            if (left <= 0) {
                if (resent) {
                    throw timeout(call);
                }
                resent = true;
                resend(call);
                deadline = System.nanoTime() + watchdogNanos;
                continue;
            }
            if (self == null) {
                // Spin a little first: most calls complete within microseconds, and a timed
                // park costs an unpark plus a wake-up (CompletableFuture's timed get does not
                // spin by itself).
                if (++spins < 500) {
                    Thread.onSpinWait();
                    continue;
                }
                try {
                    call.future.get(left, TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    // loop: the deadline or isDone() decides
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a cross-core call", e);
                }
            } else {
                // A waiting core keeps taking its own interrupts (another core may be calling
                // us) and idles by the machine's policy; the last acknowledgement wakes it.
                self.waitUntil(call.future::isDone, deadline);
            }
        }
        if (call.future.isCompletedExceptionally()) {
            try {
                call.future.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw e;
            }
        }
    }

    private void resend(final Call<?> call) {
        for (final int cpu : call.targets) {
            if (!call.done.containsKey(cpu) && (self() == null || self().id() != cpu)) {
                try {
                    machine.interrupts().send(cpu, Vector.CALL_FUNCTION, null);
                    resends.increment();
                } catch (MachineClosedException e) {
                    return;
                }
            }
        }
    }

    private CallTimeoutException timeout(final Call<?> call) {
        final StringBuilder sb = new StringBuilder("cross-core call not acknowledged after ")
            .append(TimeUnit.NANOSECONDS.toMillis(2 * watchdogNanos)).append(" ms (IPI re-sent once); silent cores:");
        CpuSet silent = CpuSet.empty();
        for (final int cpu : call.targets) {
            if (!call.done.containsKey(cpu)) {
                silent = silent.with(cpu);
                final Core core = machine.core(cpu);
                sb.append("\n  ").append(core.describe());
                final StackTraceElement[] stack = core.stackTrace();
                for (int i = 0; i < Math.min(12, stack.length); i++) {
                    sb.append("\n      at ").append(stack[i]);
                }
            }
        }
        return new CallTimeoutException(silent, sb.toString());
    }

    // =====================================================================================

    private Core self() {
        return machine.currentCore();
    }

    private static void checkMayWait(final Core self) {
        if (self == null) {
            return;
        }
        if (self.inServiceVector() >= 0) {
            throw new IllegalStateException("deadlock hazard: core " + self.id() + " waits for a cross-core call from "
                + "inside the handler for " + Vector.of(self.inServiceVector()) + "; call without wait instead");
        }
        if (!self.interruptsEnabled()) {
            throw new IllegalStateException("deadlock hazard: core " + self.id()
                + " waits for a cross-core call with interrupts disabled; the target may be waiting for us");
        }
    }

    /** One call: its function, its targets, and how far it got. */
    static final class Call<T> {
        final CallFunction<T> fn;
        final int[] targets;
        final Broadcast shape;
        int remoteCount;
        final AtomicInteger remaining;
        final Map<Integer, Boolean> done = new ConcurrentHashMap<>();
        final Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
        final CallCompletion<T> future;
        volatile T result;
        /** The core waiting for this call, woken by the last acknowledgement; null if none. */
        volatile Core waiter;

        Call(final CallFunction<T> fn, final int[] targets, final Broadcast shape) {
            this.fn = fn;
            this.targets = targets;
            this.shape = shape;
            this.remoteCount = targets.length;
            this.remaining = new AtomicInteger(targets.length);
            this.future = new CallCompletion<>(CpuSet.of(targets));
        }

        @SuppressWarnings("unchecked")
        void complete(final int cpu, final Object value, final Throwable failure, final int level) {
            if (failure != null) {
                failures.put(cpu, failure);
            } else if (targets.length == 1) {
                result = (T) value;
            }
            future.reached(level);
            done.put(cpu, Boolean.TRUE);
            // The last acknowledgement completes the future; every earlier one happens-before it
            // through the atomic counter, so the caller sees every target's writes.
            if (remaining.decrementAndGet() == 0) {
                if (failures.isEmpty()) {
                    future.complete(result);
                } else {
                    future.completeExceptionally(new SmpCallException(failures));
                }
                // Dekker with await(): the future is done (volatile) before we read the waiter;
                // the waiter is published before it reads the future. One of us sees the other.
                final Core w = waiter;
                if (w != null) {
                    w.wake();
                }
            }
        }
    }

    /** A call queued on one target. */
    static final class Descriptor {
        final Call<?> call;
        final int index;
        final int level;

        Descriptor(final Call<?> call, final int index, final int level) {
            this.call = call;
            this.index = index;
            this.level = level;
        }
    }
}
