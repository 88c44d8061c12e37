package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

import org.ipi4j.Core;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.observability.CrossCallEvent;
import org.ipi4j.time.Timeline;

/**
 * One cross-core call and how far it got: its function, its targets, one {@link CallDescriptor} per
 * target (queued, acknowledged) and the count of acknowledgements still missing. The call is
 * itself the descriptor of its first target, so a call to one core touches one object. A
 * caller that waits reuses one {@code Call} for all its calls (like the per-CPU call data Linux
 * keeps), so a waited call allocates nothing; a call whose caller does not wait gets a fresh one
 * and a future.
 *
 * <h2>Happens-before</h2>
 * The caller fills the call and its descriptors before queueing them (the queue's push publishes
 * them). Each target writes its result or failure, releases its descriptor to ACKED, then
 * decrements {@code remaining} (a volatile read-modify-write): the caller that reads
 * {@code remaining == 0} sees every target's writes, including whatever the function wrote.
 */
final class Call extends CallDescriptor {
    private static final VarHandle REMAINING;

    static {
        try {
            REMAINING = MethodHandles.lookup().findVarHandle(Call.class, "remaining", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Target core ids; the first {@link #remoteCount} are remote, a local share comes last. */
    final int[] targets;
    /** The cores a flat broadcast rings in one batch (their queues were empty): reused, like the rest. */
    final int[] ring;
    /** One descriptor per target index, reused by every call made with this object. */
    final CallDescriptor[] descriptors;
    int count;
    int remoteCount;
    /** How the call reaches its targets; its {@link Broadcast#shape} passes it on. */
    Broadcast broadcast;
    CallFunction<?> function;
    CoreAction action;
    /** True for a call whose caller does not wait: it gets a future and is never reused. */
    boolean async;
    /** For a caller that does not wait: completed by the last acknowledgement. */
    CallCompletion<Object> future;
    /** For a caller that does not wait, while JFR records CrossCall: finished by the last acknowledgement. */
    CrossCallEvent event;
    /** Owner-only guard: a function run locally that calls again must not reuse this object. */
    boolean inUse;

    private volatile int remaining;
    private volatile boolean failed;
    private volatile Object result;
    /**
     * The core (woken with Core.wake) or thread (unparked) waiting for this call, or null while
     * the caller is still spinning: set only just before it may sleep.
     */
    private volatile Object waiter;

    final BooleanSupplier isDone = this::isDone;
    /** Unparks an outside waiter: the host's, or a simulation's. */
    private final Timeline timeline;

    Call(final int cores, final Timeline timeline) {
        this.timeline = timeline;
        this.targets = new int[cores];
        this.ring = new int[cores];
        this.descriptors = new CallDescriptor[cores];
        descriptors[0] = this;
        for (int i = 1; i < cores; i++) {
            descriptors[i] = new Share(this, i);
        }
    }

    @Override
    Call call() {
        return this;
    }

    @Override
    int index() {
        return 0;
    }

    /** Prepares this object for a new call of {@code fn} (or {@code act}) reaching targets with {@code how}. Caller only. */
    void prepare(final CallFunction<?> fn, final CoreAction act, final Broadcast how) {
        // Written only when they change: targets read these fields, and a store that changes
        // nothing would still pull the line away from them.
        if (function != fn) {
            function = fn;
        }
        if (action != act) {
            action = act;
        }
        if (broadcast != how) {
            broadcast = how;
        }
        count = 0;
        remoteCount = 0;
        if (result != null) {
            result = null;
        }
        if (failed) {
            failed = false;
        }
    }

    /** Resets the descriptors and publishes the number of acknowledgements to wait for. Caller only, before any is queued. */
    void arm() {
        for (int i = 0; i < count; i++) {
            descriptors[i].reset();
        }
        remaining = count;
    }

    boolean isDone() {
        return remaining == 0;
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

    /**
     * The acknowledgement of a target by the party that claimed its descriptor (the target that
     * ran it, or whoever gave it up); {@code failure} may be null. Any thread, once per descriptor.
     */
    void acknowledge(final CallDescriptor d, final Throwable failure) {
        if (failure != null) {
            d.failure = failure;
            failed = true;
        }
        d.ack(); // RUNNING or GIVING_UP -> ANSWERED, after the failure: a reader that sees it answered sees why
        if ((int) REMAINING.getAndAdd(this, -1) == 1) {
            final CrossCallEvent e = event;
            if (e != null) {
                e.finish(targetSet(), count, broadcast, false, 0, failed);
            }
            final CallCompletion<Object> f = future;
            if (f != null) {
                f.reached(rounds());
                if (failed) {
                    f.finishExceptionally(failure());
                } else {
                    f.finish(result);
                }
            }
            // Partner: the waiter publishes itself, then reads remaining, then sleeps.
            final Object w = waiter;
            if (w instanceof Core core) {
                core.wake();
            } else if (w instanceof Thread thread) {
                timeline.unpark(thread);
            }
        }
    }

    /** Publishes who waits (a volatile store, before the waiter's last look at {@code remaining}). */
    void waiter(final Object w) {
        waiter = w;
    }

    boolean failed() {
        return failed;
    }

    Object result() {
        return result;
    }

    /** Rounds of IPIs to the farthest target acknowledged so far (final once done). */
    int rounds() {
        int r = 0;
        for (int i = 0; i < count; i++) {
            final CallDescriptor d = descriptors[i];
            if (d.acked()) {
                r = Math.max(r, d.level);
            }
        }
        return r;
    }

    /** What every failing target threw, as one exception (allocates; failure path only). */
    SmpCallException failure() {
        final Map<Integer, Throwable> byCore = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            final Throwable t = descriptors[i].failure;
            if (t != null) {
                byCore.put(targets[i], t);
            }
        }
        return new SmpCallException(byCore);
    }

    /** The targets as a set (allocates). */
    CpuSet targetSet() {
        return CpuSet.of(Arrays.copyOf(targets, count));
    }

    /** Clears what this call holds on to so the object can serve the next one. Caller only, after isDone(). */
    void recycle() {
        if (failed) {
            for (int i = 0; i < count; i++) {
                descriptors[i].failure = null;
            }
        }
        if (waiter != null) {
            waiter = null;
        }
        if (result != null) {
            result = null;
        }
        inUse = false;
    }

    /** The descriptor of a target after the first. */
    static final class Share extends CallDescriptor {
        private final Call call;
        private final int index;

        Share(final Call call, final int index) {
            this.call = call;
            this.index = index;
        }

        @Override
        Call call() {
            return call;
        }

        @Override
        int index() {
            return index;
        }
    }
}
