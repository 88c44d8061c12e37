package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

import org.ipi4j.Core;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
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
 *
 * <h2>Answering without running</h2>
 * A deadline ({@link CallWait#expire}), a cancel ({@link #cancel}) or a shutdown answers the
 * shares no target has started, each claimed with the descriptor's one CAS, so a share is either
 * run by its target or answered for, never both. A call with a share answered that way by its
 * caller is never reused: the descriptor may still sit in a queue its target has not drained.
 * How the call ended is {@link #outcome()}: one exception, chosen by precedence (a shutdown, then
 * a deadline, then a cancel, then what the functions threw).
 *
 * <h2>Layout</h2>
 * What the caller writes on every call (its first descriptor's link, level and state,
 * {@code inUse}, {@code count}, {@code remoteCount}, {@code remaining}) and what the target writes
 * (the state, twice, and {@code remaining}) lie in the object's first 56 bytes (with compressed
 * references, HotSpot's default below 32 GB of heap), the descriptor's fields and this class's
 * ints and booleans together (the JVM lays a superclass's fields first and fills its gaps with a
 * subclass's small ones), ahead of the references. Those a target only reads, but {@code result},
 * which the target of a one-core function call writes (and the caller clears when it was set). As
 * one region the written fields take one cache line or two, as the object falls; a padding between
 * the descriptor's fields and these made them two lines always. Without it, {@code call-spin} over
 * {@code floor-call} was lower in 5 of 8 pairs of interleaved {@code lab trials --variants
 * call-spin,floor-call} runs (2026-12-02, alternating order; higher in 1, level in 2), median 1.23x
 * against 1.36x, within the runs' scatter of about 20%: a likely gain, not a proven one.
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
    /** How the call reaches its targets, a fixed shape (never auto); its {@link Broadcast#shape} passes it on. */
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
    /** True for a call with a deadline: its targets note when they start, for the deadline's report. */
    boolean timed;
    /** The service group's place this call holds (null: none); an async call gives it back with its last answer. */
    ServiceGroup permit;
    /** An async call's deadline, scheduled before it is sent; cancelled by the last answer. */
    Future<?> expiry;
    /** Per-core room for unanswered calls (null: unbounded); each remote share gives its slot back when answered. */
    private final CallBound bound;

    private volatile int remaining;
    private volatile boolean failed;
    private volatile Object result;
    /**
     * The core (woken with Core.wake) or thread (unparked) waiting for this call, or null while
     * the caller is still spinning: set only just before it may sleep.
     */
    private volatile Object waiter;
    /**
     * For an async call that missed its deadline: the exception its future completes with, set by
     * the expiring thread before it answers the shares it claimed, so that the last answer (which
     * gives the call's room back first) completes the future with it. Null otherwise.
     */
    private volatile RuntimeException expired;

    final BooleanSupplier isDone = this::isDone;
    /** Unparks an outside waiter: the host's, or a simulation's. */
    private final Timeline timeline;

    Call(final int cores, final Timeline timeline, final CallBound bound) {
        this.timeline = timeline;
        this.bound = bound;
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
        if (broadcast != how && how.kind() != Broadcast.Kind.AUTO) {
            broadcast = how; // auto: the initiator writes the fixed shape once it knows the targets
        }
        count = 0;
        remoteCount = 0;
        if (result != null) {
            result = null;
        }
        if (failed) {
            failed = false;
        }
        if (timed) {
            timed = false;
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
        final CallBound b = bound;
        if (b != null && d.index() < remoteCount) {
            b.release(targets[d.index()]); // before the decrement: after it the call may be reused
        }
        d.ack(); // RUNNING or GIVING_UP -> ANSWERED, after the failure: a reader that sees it answered sees why
        if ((int) REMAINING.getAndAdd(this, -1) == 1) {
            final CrossCallEvent e = event;
            if (e != null) {
                e.finish(targetSet(), count, broadcast, false, 0, failed);
            }
            final CallCompletion<Object> f = future;
            if (f != null) { // an async call: never reused, so its fields are stable here
                if (permit != null) {
                    permit.release(); // before the future completes: a dependent stage may call again
                }
                if (expiry != null) {
                    expiry.cancel(false);
                }
                f.reached(rounds());
                if (failed) {
                    final RuntimeException x = expired; // partner: expired(), before the claimed shares' answers
                    f.finishExceptionally(x != null ? x : outcome());
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

    /** Sets what the future of an expired async call completes with (before its claimed shares are answered). */
    void expired(final RuntimeException e) {
        expired = e;
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

    /**
     * How a failed call ended, as the one exception its caller gets (allocates; failure path
     * only; after the last answer): a share given up by a shutdown makes it a
     * {@link MachineClosedException} naming the cores that did run ({@code delivered()}), else a
     * deadline's {@link CallTimeoutException}, else a cancel's {@link CallCancelledException},
     * else the functions' failures as an {@link SmpCallException}; a function's failure beside
     * one of the first three is suppressed in it.
     */
    RuntimeException outcome() {
        final Map<Integer, Throwable> thrown = new TreeMap<>();
        CpuSet closed = CpuSet.empty();
        CpuSet ran = CpuSet.empty();
        RuntimeException first = null;
        for (int i = 0; i < count; i++) {
            final CallDescriptor d = descriptors[i];
            final Throwable t = d.failure;
            if (!d.skipped) {
                ran = ran.with(targets[i]);
                if (t != null) {
                    thrown.put(targets[i], t);
                }
            } else if (t instanceof MachineClosedException) {
                closed = closed.with(targets[i]);
            } else if (t instanceof CallTimeoutException || (t instanceof CallCancelledException && first == null)) {
                first = (RuntimeException) t;
            }
        }
        final RuntimeException e;
        if (!closed.isEmpty()) {
            e = new MachineClosedException("the machine shut down before cores " + closed
                + " ran the cross-core call; it ran on " + ran, ran);
        } else if (first != null) {
            e = first;
        } else {
            return new SmpCallException(thrown);
        }
        if (!thrown.isEmpty()) {
            e.addSuppressed(new SmpCallException(thrown));
        }
        return e;
    }

    /**
     * Claims every share no target has started, to answer it without running it (the same CAS
     * a target's start takes: each share is run or claimed, never both). Any thread; the caller
     * then answers each claimed share once, and abandons the call.
     *
     * @return the claimed target indexes, or null if none was claimed
     */
    boolean[] claimUnstarted() {
        boolean[] claimed = null;
        for (int i = 0; i < count; i++) {
            if (descriptors[i].claimForGiveUp()) {
                if (claimed == null) {
                    claimed = new boolean[count];
                }
                claimed[i] = true;
            }
        }
        return claimed;
    }

    /** Answers the shares {@link #claimUnstarted} claimed with {@code why}. */
    void answerClaimed(final boolean[] claimed, final RuntimeException why) {
        for (int i = 0; i < claimed.length; i++) {
            if (claimed[i]) {
                acknowledge(descriptors[i], why);
            }
        }
    }

    /** The targets at the indexes of {@code which} (allocates). */
    CpuSet targets(final boolean[] which) {
        CpuSet s = CpuSet.empty();
        for (int i = 0; i < which.length; i++) {
            if (which[i]) {
                s = s.with(targets[i]);
            }
        }
        return s;
    }

    /**
     * Cancels an async call: claims the shares not started and answers them with a
     * {@link CallCancelledException}; the future completes when the started ones finish.
     *
     * @return the targets cancelled (empty if every target had started or been answered)
     */
    CpuSet cancel() {
        final boolean[] claimed = claimUnstarted();
        if (claimed == null) {
            return CpuSet.empty();
        }
        final CpuSet cancelled = targets(claimed);
        CpuSet started = CpuSet.empty();
        for (int i = 0; i < count; i++) {
            if (!claimed[i] && !descriptors[i].givenUp()) {
                started = started.with(targets[i]);
            }
        }
        answerClaimed(claimed, new CallCancelledException(started, cancelled));
        return cancelled;
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
        if (permit != null) {
            permit = null; // written only when set: targets read this object's line
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
