package org.ipi4j.smp;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntPredicate;

import org.ipi4j.CallerLocal;
import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.CrossCallEvent;
import org.ipi4j.time.Timeline;

/**
 * The caller's side of a cross-core call, once {@link SmpCall} has checked its arguments: the
 * call object, the targets, the local share, and for a waited call the wait and the result.
 *
 * <ul>
 *   <li>A waited call reuses the caller's own {@link Call} (one per core, one per outside thread,
 *       like Linux's per-CPU call data), so it allocates nothing; a call made from inside a
 *       function run locally, while that object is in use, gets a fresh one. A call that
 *       returns a future gets a fresh call and its future.</li>
 *   <li>Targets are chosen here, in core-id order, the condition evaluated per target before
 *       anything is sent; the caller's own core is taken out and comes last. A waited call is
 *       refused before anything is queued where waiting is a deadlock hazard.</li>
 *   <li>The remote share goes out through {@link CallDelivery}; then the local share runs here
 *       with interrupts disabled and no IPI, overlapping the remote work; then the caller waits
 *       through {@link CallWait}.</li>
 *   <li>Before the first share is queued the caller takes its place in its {@link ServiceGroup}
 *       and a slot on each remote target ({@link CallBound}), or refuses the call whole; for an
 *       async call with a deadline it schedules the expiry ({@link CallTimer}).</li>
 *   <li>After the last acknowledgement the caller reads the result and recycles its call; after
 *       a timeout it abandons the call (late acknowledgements may still arrive) and never reuses
 *       it.</li>
 * </ul>
 * A {@code deadline} of 0 means none; {@code expiry} is when a deadline passes on the machine's
 * clock, taken when the call began, so waiting for room counts against it.
 * Thread-safe: each caller works on its own call.
 */
final class CallInitiator {
    private final Machine machine;
    private final int cores;
    /** The machine's clock and parking, for the calls made here (the host's, or a simulation's). */
    private final Timeline timeline;
    private final CallDelivery delivery;
    private final CallWait waiting;
    /** The reusable call of each waiting caller (each core, each outside thread). */
    private final CallerLocal<Call> waitedCalls;
    private final LongAdder localRuns = new LongAdder();
    /** Per-core room for unanswered calls, or null for unbounded queues. */
    private final CallBound bound;
    private final CallTimer timer;
    /** Broadcast.auto()'s fixed shape for each target count, chosen once from the machine's cost model. */
    private final AutoShape autoShape;

    CallInitiator(final Machine machine, final CallDelivery delivery, final CallWait waiting, final CallBound bound) {
        this.machine = machine;
        this.cores = machine.coreCount();
        this.timeline = machine.timeline();
        this.delivery = delivery;
        this.waiting = waiting;
        this.bound = bound;
        this.timer = new CallTimer(machine.name());
        this.autoShape = new AutoShape(machine.costModel(), machine.topology(), cores);
        final int n = cores;
        final Timeline t = timeline;
        this.waitedCalls = new CallerLocal<>(machine, () -> new Call(n, t, null)); // waited calls take no slot
    }

    /** {@return the per-core room for calls, or null if unbounded} */
    CallBound bound() {
        return bound;
    }

    /** {@return when a deadline of {@code deadline} ns taken now passes (0 for none)} */
    long expiry(final long deadline) {
        return deadline == 0 ? 0 : timeline.nanoTime() + deadline;
    }

    /**
     * Refuses, before anything happens, an async call with a deadline on a simulated machine: its
     * deadline would fire from a host thread outside the simulation's schedule, whose wake-up of a
     * simulated waiter the simulation cannot take (a deadlock, or a schedule that does not replay).
     */
    private void checkAsyncDeadline(final SmpCall layer) {
        if (layer.deadlineNanos() != 0 && machine.simulation() != null) {
            throw new IllegalStateException("machine " + machine.name() + " is simulated: an async call cannot have a "
                + "deadline there (it would fire in host time, outside the simulation); make it a waited call, whose "
                + "deadline is in virtual time, or make it without a deadline");
        }
    }

    /** {@return calls (or shares of calls) run locally on the caller's own core} */
    long localRuns() {
        return localRuns.sum();
    }

    /** Runs {@code fn} (or {@code action}) on {@code cpu}, waits, and returns its result. */
    Object waited(final int cpu, final CallFunction<?> fn, final CoreAction action, final SmpCall layer) {
        final Core self = machine.currentCore();
        final CrossCallEvent jfr = CrossCallEvent.startIfEnabled(self == null ? -1 : self.id()); // null unless recorded
        final long deadline = layer.deadlineNanos();
        if (jfr == null && deadline == 0 && layer.group() == null && (self == null || self.id() != cpu)) {
            return waitedRemote(self, cpu, fn, action);
        }
        final long expiry = expiry(deadline);
        final Call call = waitedCall(fn, action, Broadcast.flat(), deadline);
        unicast(call, cpu, layer, expiry);
        return finishWaited(call, jfr, deadline, expiry);
    }

    /**
     * The commonest call on its own path: waited, to one remote core, without deadline, group or
     * JFR event. The caller's own call goes straight onto the target's queue and the IPI is raised
     * ({@link CallDelivery#enqueue}, as a tree's hop does): no shape, no batch of doorbells. What
     * the general path would check here it checks too, in the same order: the deadlock hazard
     * first (refused with nothing taken or queued), then the machine's closing at the enqueue.
     */
    private Object waitedRemote(final Core self, final int cpu, final CallFunction<?> fn, final CoreAction action) {
        CallWait.checkMayWait(self);
        final Call call = waitedCall(fn, action, Broadcast.flat(), 0);
        call.targets[0] = cpu;
        call.count = 1;
        call.remoteCount = 1;
        call.arm();
        delivery.enqueue(call, 0, 1);
        return finishWaited(call, null, 0, 0);
    }

    /** Runs {@code fn} (or {@code action}) on {@code cpu}; returns at once. */
    <T> CallCompletion<T> async(final int cpu, final CallFunction<?> fn, final CoreAction action, final SmpCall layer) {
        checkAsyncDeadline(layer);
        final long expiry = expiry(layer.deadlineNanos());
        final Call call = futureCall(fn, action, Broadcast.flat(), layer.deadlineNanos());
        unicast(call, cpu, layer, expiry);
        return future(call);
    }

    /** Runs {@code action} on the cores of {@code cpus} that pass {@code condition}, reached with {@code shape}, and waits. */
    void waited(final CpuSet cpus, final IntPredicate condition, final CoreAction action, final Broadcast shape,
                final SmpCall layer) {
        final CrossCallEvent jfr = CrossCallEvent.startIfEnabled(callerId());
        final long deadline = layer.deadlineNanos();
        final long expiry = expiry(deadline);
        final Call call = waitedCall(null, action, shape, deadline);
        multicast(call, cpus, condition, shape, layer, expiry);
        finishWaited(call, jfr, deadline, expiry);
    }

    /** The same without waiting. */
    CallCompletion<Void> async(final CpuSet cpus, final IntPredicate condition, final CoreAction action,
                               final Broadcast shape, final SmpCall layer) {
        checkAsyncDeadline(layer);
        final long expiry = expiry(layer.deadlineNanos());
        final Call call = futureCall(null, action, shape, layer.deadlineNanos());
        multicast(call, cpus, condition, shape, layer, expiry);
        return future(call);
    }

    /** The caller's reusable call, prepared; a fresh one if it is in use (a nested local call). */
    private Call waitedCall(final CallFunction<?> fn, final CoreAction action, final Broadcast shape, final long deadline) {
        Call call = waitedCalls.get();
        if (call.inUse) {
            call = new Call(cores, timeline, null);
        }
        call.inUse = true;
        call.prepare(fn, action, shape);
        if (deadline != 0) {
            call.timed = true; // prepare cleared it: written only when set, as prepare writes
        }
        return call;
    }

    private Call futureCall(final CallFunction<?> fn, final CoreAction action, final Broadcast shape, final long deadline) {
        final Call call = new Call(cores, timeline, bound);
        call.prepare(fn, action, shape);
        call.timed = deadline != 0;
        call.async = true;
        call.event = CrossCallEvent.startIfEnabled(callerId()); // a fresh call: the store costs no shared line
        return call;
    }

    /** The calling core's id, or -1 for an outside thread. */
    private int callerId() {
        final Core self = machine.currentCore();
        return self == null ? -1 : self.id();
    }

    private void unicast(final Call call, final int cpu, final SmpCall layer, final long expiry) {
        final Core self = machine.currentCore();
        call.targets[0] = cpu;
        call.count = 1;
        if (call.async) {
            call.future = new CallCompletion<>(call.targetSet(), call, layer);
        }
        if (self != null && self.id() == cpu) {
            call.arm();
            runLocally(self, call, 0);
            return;
        }
        call.remoteCount = 1;
        start(call, self, layer, expiry);
    }

    private void multicast(final Call call, final CpuSet cpus, final IntPredicate condition, final Broadcast shape,
                           final SmpCall layer, final long expiry) {
        final Core self = machine.currentCore();
        boolean local = false;
        int n = 0;
        try {
            for (int cpu = cpus.next(0); cpu >= 0; cpu = cpus.next(cpu + 1)) {
                if (condition == null || condition.test(cpu)) {
                    if (self != null && self.id() == cpu) {
                        local = true;
                    } else {
                        call.targets[n++] = cpu;
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            release(call); // the condition threw before anything was queued: the call is free again
            throw e;
        }
        call.remoteCount = n;
        if (shape.kind() == Broadcast.Kind.AUTO) {
            // Written before anything is queued: a target reads it after taking the call off its
            // queue (partner: the queue's push, a release, in CallDelivery.enqueue and ringAll).
            final Broadcast fixed = autoShape.pick(n);
            if (call.broadcast != fixed) {
                call.broadcast = fixed; // only when it changes, as prepare writes
            }
        }
        if (local) {
            call.targets[n++] = self.id();
        }
        call.count = n;
        if (call.async) {
            call.future = new CallCompletion<>(call.targetSet(), call, layer);
        }
        if (n == 0) {
            call.arm(); // nobody to call: done at once
            if (call.future != null) {
                call.future.finish(null);
            }
            return;
        }
        if (call.remoteCount > 0) {
            start(call, self, layer, expiry);
        } else {
            call.arm();
        }
        if (local) {
            runLocally(self, call, call.count - 1); // overlaps with the remote targets
        }
    }

    /**
     * Starts the remote share. Refuses first, with nothing queued: if the caller will wait where
     * that is a deadlock hazard, if its service group is full, or if a target's queue is full.
     */
    private void start(final Call call, final Core self, final SmpCall layer, final long expiry) {
        final ServiceGroup group = layer.group();
        try {
            if (!call.async) {
                CallWait.checkMayWait(self);
            }
            if (group != null) {
                if (!group.take(machine, self, roomBy(expiry, layer))) {
                    throw new MailboxFullException(call.targetSet(), Vector.CALL_FUNCTION, "service group "
                        + group.name() + " has its " + group.maxInFlight() + " calls in flight");
                }
                call.permit = group;
            }
            if (bound != null && call.async) { // a waited call is bounded by its caller, one at a time
                bound.reserve(machine, call, self, roomBy(expiry, layer));
            }
        } catch (RuntimeException e) {
            if (call.permit != null) {
                call.permit.release();
            }
            release(call);
            throw e;
        }
        call.arm();
        if (call.async && expiry != 0) {
            final long deadline = layer.deadlineNanos();
            // Before the send: the last answer, which cancels it, cannot come before it is set.
            call.expiry = timer.after(Math.max(0, expiry - timeline.nanoTime()), () -> expireAsync(call, deadline));
        }
        delivery.send(call);
    }

    /**
     * How long a call may wait for room: its deadline, or one watchdog period; now, for a
     * continuation's call, which must not wait (a clock read: only when bounded).
     */
    private long roomBy(final long expiry, final SmpCall layer) {
        if (!layer.waitsForRoom()) {
            return timeline.nanoTime();
        }
        return expiry != 0 ? expiry : timeline.nanoTime() + waiting.watchdogNanos();
    }

    /** An async call's deadline passed: its future fails now, with what ran, what never will, what still runs. */
    private void expireAsync(final Call call, final long deadline) {
        if (call.isDone()) {
            return; // answered in time; the last answer completed the future
        }
        waiting.expire(call, deadline, call.future);
    }

    /** The caller's own share: run here with interrupts disabled, as a target's handler would, without an IPI. */
    private void runLocally(final Core self, final Call call, final int index) {
        localRuns.increment();
        final int cpu = call.targets[index];
        final CallDescriptor d = call.descriptors[index];
        if (!d.start()) {
            return; // an async call's cancel or deadline claimed it first: it must never run
        }
        final boolean flags = self.disableInterrupts();
        final Throwable failure;
        try {
            failure = call.invoke(cpu);
        } finally {
            self.restoreInterrupts(flags);
        }
        call.acknowledge(d, failure);
    }

    /** Waits for a waited call, hands back its result, and recycles it; finishes its JFR event if any. */
    private Object finishWaited(final Call call, final CrossCallEvent jfr, final long deadline, final long expiry) {
        final int resends;
        try {
            resends = waiting.await(call, deadline, expiry);
        } catch (CallTimeoutException e) {
            waitedCalls.abandon(call); // late acknowledgements may still arrive: never reuse it
            if (call.permit != null) {
                call.permit.release(); // the caller is done with it, even if a target still runs
            }
            if (jfr != null) {
                jfr.finish(call.targetSet(), call.count, call.broadcast, true, 1, true);
            }
            throw waiting.orClosed(e);
        }
        if (call.permit != null) {
            call.permit.release();
        }
        if (jfr != null) {
            jfr.finish(call.targetSet(), call.count, call.broadcast, true, resends, call.failed());
        }
        return collect(call);
    }

    /** Hands back a finished waited call's result (or throws its failure) and recycles it. */
    private static Object collect(final Call call) {
        final Object result = call.result();
        final RuntimeException failure = call.failed() ? call.outcome() : null;
        release(call);
        if (failure != null) {
            throw failure;
        }
        return result;
    }

    @SuppressWarnings("unchecked")
    private static <T> CallCompletion<T> future(final Call call) {
        return (CallCompletion<T>) (CallCompletion<?>) call.future;
    }

    private static void release(final Call call) {
        call.recycle();
    }
}
