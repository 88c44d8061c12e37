package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.ipi4j.Core;
import org.ipi4j.interrupts.CpuSet;

/**
 * One cross-core call and how far it got: its function, its targets, a per-target state
 * (pending, claimed, acknowledged) and the count of acknowledgements still missing. A caller that
 * waits reuses one {@code Call} for all its calls (like the call-single data Linux keeps per CPU),
 * so a waited call allocates nothing; a call whose caller does not wait gets a fresh one and a
 * future.
 *
 * <h2>Happens-before</h2>
 * The caller fills the call before queueing its descriptors (the queue's offer publishes it).
 * Each target writes its result or failure, then releases its state to ACKED, then decrements
 * {@code remaining} (a volatile read-modify-write): the caller that reads {@code remaining == 0}
 * sees every target's writes, including whatever the function wrote.
 */
final class Call {
    static final byte PENDING = 0;
    static final byte CLAIMED = 1;
    static final byte ACKED = 2;

    private static final VarHandle REMAINING;
    private static final VarHandle ROUNDS;
    private static final VarHandle STATE = MethodHandles.arrayElementVarHandle(byte[].class);

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            REMAINING = l.findVarHandle(Call.class, "remaining", int.class);
            ROUNDS = l.findVarHandle(Call.class, "rounds", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Target core ids; the first {@link #remoteCount} are remote, a local share comes last. */
    final int[] targets;
    /** One descriptor per target index, reused by every call made with this object. */
    final Descriptor[] descriptors;
    /** Per core: PENDING, CLAIMED (running it) or ACKED. */
    private final byte[] state;
    private final Throwable[] failures;
    int count;
    int remoteCount;
    Broadcast shape;
    CallFunction<?> function;
    CoreAction action;
    /** For a caller that does not wait: completed by the last acknowledgement. */
    CallCompletion<Object> future;
    /** True for a call whose caller does not wait: it gets a future and is never reused. */
    boolean async;
    /** Owner-only guard: a function run locally that calls again must not reuse this object. */
    boolean inUse;

    private volatile int remaining;
    private volatile int rounds;
    private volatile boolean failed;
    private volatile Object result;
    /** The core (woken with Core.wake) or thread (unparked) waiting for this call; null if none. */
    private volatile Object waiter;

    final BooleanSupplier isDone = this::isDone;

    Call(final int cores) {
        this.targets = new int[cores];
        this.descriptors = new Descriptor[cores];
        for (int i = 0; i < cores; i++) {
            descriptors[i] = new Descriptor(this, i);
        }
        this.state = new byte[cores];
        this.failures = new Throwable[cores];
    }

    /** Prepares this object for a new call of {@code fn} (or {@code act}) reaching targets with {@code how}. Caller only. */
    void prepare(final CallFunction<?> fn, final CoreAction act, final Broadcast how) {
        this.function = fn;
        this.action = act;
        this.shape = how;
        this.count = 0;
        this.remoteCount = 0;
        this.result = null;
        this.failed = false;
        this.rounds = 0;
    }

    /** Publishes the number of acknowledgements to wait for; done after the targets are set, before any is queued. */
    void arm() {
        remaining = count;
    }

    boolean isDone() {
        return remaining == 0;
    }

    /** Claims target {@code cpu}: true for exactly one of its runner and a caller giving it up. */
    boolean claim(final int cpu) {
        return STATE.compareAndSet(state, cpu, PENDING, CLAIMED);
    }

    /** Runs the function on {@code cpu}; returns the failure, or null. */
    Throwable invoke(final int cpu) {
        try {
            if (action != null) {
                action.run(cpu);
            } else {
                final Object r = function.apply(cpu);
                if (count == 1) {
                    result = r;
                }
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** The acknowledgement of a claimed target: {@code failure} may be null. Any thread. */
    void acknowledge(final int cpu, final Throwable failure, final int level) {
        if (failure != null) {
            failures[cpu] = failure;
            failed = true;
        }
        int r;
        while (level > (r = rounds) && !ROUNDS.compareAndSet(this, r, level)) {
            Thread.onSpinWait();
        }
        STATE.setRelease(state, cpu, ACKED);
        if ((int) REMAINING.getAndAdd(this, -1) == 1) {
            final CallCompletion<Object> f = future;
            if (f != null) {
                f.reached(rounds);
                if (failed) {
                    f.completeExceptionally(failure());
                } else {
                    f.complete(result);
                }
            }
            // Partner: the waiter publishes itself, then reads remaining (waitUntil / park).
            final Object w = waiter;
            if (w instanceof Core core) {
                core.wake();
            } else if (w instanceof Thread thread) {
                LockSupport.unpark(thread);
            }
        }
    }

    /** Gives target {@code cpu} up with {@code why}, unless it already claimed the call. */
    void giveUp(final int cpu, final Throwable why) {
        if (claim(cpu)) {
            acknowledge(cpu, why, 0);
        }
    }

    void waiter(final Object w) {
        waiter = w;
    }

    boolean acked(final int cpu) {
        return (byte) STATE.getAcquire(state, cpu) == ACKED;
    }

    boolean failed() {
        return failed;
    }

    Object result() {
        return result;
    }

    int rounds() {
        return rounds;
    }

    /** What every failing target threw, as one exception (allocates; failure path only). */
    SmpCallException failure() {
        final Map<Integer, Throwable> byCore = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            final Throwable t = failures[targets[i]];
            if (t != null) {
                byCore.put(targets[i], t);
            }
        }
        return new SmpCallException(byCore);
    }

    /** The targets as a set (allocates). */
    CpuSet targetSet() {
        return CpuSet.of(java.util.Arrays.copyOf(targets, count));
    }

    /** Clears what this call left behind so the object can serve the next one. Caller only, after isDone(). */
    void recycle() {
        for (int i = 0; i < count; i++) {
            state[targets[i]] = PENDING;
            failures[targets[i]] = null;
        }
        function = null;
        action = null;
        waiter = null;
        result = null;
        inUse = false;
    }

    /** One target's share of a call, as queued on that target. */
    static final class Descriptor {
        final Call call;
        final int index;
        /** IPI rounds it took to get here; written by whoever queues it, before the offer publishes it. */
        int level;

        Descriptor(final Call call, final int index) {
            this.call = call;
            this.index = index;
        }
    }
}
