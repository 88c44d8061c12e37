package org.ipi4j.smp;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;

import org.ipi4j.CallerLocal;
import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.Timeline;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.CrossCallEvent;

/**
 * Cross-core function calls, like Linux's {@code smp_call_function_single/many} and
 * {@code on_each_cpu}: "run this on core 3 and wait", "run this on every core".
 *
 * <h2>Protocol</h2>
 * Each core has a {@link CallQueue} of call descriptors and the {@link Vector#CALL_FUNCTION}
 * vector. The caller pushes a descriptor and sends the IPI only if the target's queue was empty;
 * the others coalesce, since the handler takes the whole queue. A call to the caller's own core
 * runs locally with interrupts disabled and no IPI; for a multi-core call the local share runs
 * after the IPIs are sent and before waiting, so it overlaps the remote work.
 *
 * <h2>Waiting calls allocate nothing</h2>
 * {@link #call(int, CallFunction)} and the {@code run} methods wait for every target and return
 * the result directly. Each caller (each core, each outside thread) reuses one call descriptor
 * for all its waited calls, like the per-CPU call data of Linux, and acknowledgements are a
 * countdown plus a state in each target's descriptor, so a steady stream of waited calls allocates nothing on the
 * caller or the targets. The {@code *Async} forms return at once with a future, and allocate the
 * call and its future.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Everything the caller did before the call happens-before the function runs on each
 *       target; everything each target did in the function happens-before the call returns (with
 *       wait) or the returned future completes (without).</li>
 *   <li>The function runs at most once per target, and each target is answered once: by the
 *       target, or, if the machine closed before it could be reached, by the caller with a
 *       {@link MachineClosedException}. A call made after the machine closed throws
 *       {@link MachineClosedException} itself and queues nothing. Exceptions thrown by the function on any
 *       target reach the caller as an {@link SmpCallException} naming the cores.</li>
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
    /** An outside caller spins this many times before parking: most calls finish within microseconds. */
    private static final int CALLER_SPINS = 500;

    private final Machine machine;
    private final int cores;
    private final CallQueue[] queues;
    private final long watchdogNanos;
    private final Broadcast broadcast;
    /** The reusable call of each waiting caller (each core, each outside thread). */
    private final CallerLocal<Call> waitedCalls;
    private final LongAdder ipisSent = new LongAdder();
    private final LongAdder ipisCoalesced = new LongAdder();
    private final LongAdder localRuns = new LongAdder();
    private final LongAdder resends = new LongAdder();
    private final LongAdder yields = new LongAdder();
    /** PV directed yield ({@link org.ipi4j.Paravirt#SCHED_YIELD}). */
    private final boolean yieldToPreempted;
    /** A ring the closing machine refused: nothing is coming for that queue, take it back. */
    private final IntConsumer unreachable = this::unreachable;
    /** The machine's clock and parking (the host's, or a simulation's). */
    private final Timeline timeline;
    /** Where cores sit, for {@link Broadcast#topology()}. */
    private final Topology topology;

    private SmpCall(final Machine machine, final Duration watchdog, final Broadcast broadcast) {
        this.machine = machine;
        this.cores = machine.coreCount();
        this.watchdogNanos = watchdog.toNanos();
        this.broadcast = broadcast;
        this.yieldToPreempted = machine.paravirt(org.ipi4j.Paravirt.SCHED_YIELD);
        this.queues = new CallQueue[cores];
        for (int i = 0; i < cores; i++) {
            queues[i] = new CallQueue();
        }
        final int n = cores;
        this.timeline = machine.timeline();
        this.topology = machine.topology();
        final Timeline t = timeline;
        this.waitedCalls = new CallerLocal<>(machine, () -> new Call(n, t));
    }

    /**
     * Installs cross-core calls on {@code machine} with a 5 s watchdog and flat broadcast.
     *
     * @param machine the machine
     * @return the installed layer
     */
    public static SmpCall install(final Machine machine) {
        return install(machine, Duration.ofSeconds(5), Broadcast.flat());
    }

    /**
     * Installs cross-core calls on {@code machine}: registers the {@link Vector#CALL_FUNCTION}
     * handler. Once per machine.
     *
     * @param machine the machine
     * @param watchdog  how long a wait lasts before the IPI is re-sent, and again before giving up
     * @param broadcast default shape of multi-core calls
     * @return the installed layer
     * @throws IllegalStateException if the machine already has a call-function handler
     */
    public static SmpCall install(final Machine machine, final Duration watchdog, final Broadcast broadcast) {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(watchdog, "watchdog");
        Objects.requireNonNull(broadcast, "broadcast");
        if (watchdog.isNegative() || watchdog.isZero()) {
            throw new IllegalArgumentException("watchdog must be positive: " + watchdog);
        }
        final SmpCall smp = new SmpCall(machine, watchdog, broadcast);
        machine.interrupts().register(Vector.CALL_FUNCTION, smp::onCallFunction);
        machine.onShutdown(smp::failUnanswered);
        return smp;
    }

    /** {@return the machine this layer runs on} */
    public Machine machine() {
        return machine;
    }

    /** {@return the default broadcast shape} */
    public Broadcast broadcast() {
        return broadcast;
    }

    /** {@return call-function IPIs sent (a target's queue was idle, or a re-send)} */
    public long ipisSent() {
        return ipisSent.sum();
    }

    /** {@return descriptors queued behind others without an IPI of their own} */
    public long ipisCoalesced() {
        return ipisCoalesced.sum();
    }

    /** {@return calls (or shares of calls) run locally on the caller's own core} */
    public long localRuns() {
        return localRuns.sum();
    }

    /** {@return times a waiting caller yielded to a preempted target (PV directed yield), ending its preemption} */
    public long yieldsToPreempted() {
        return yields.sum();
    }

    /** {@return IPIs re-sent by the watchdog} */
    public long watchdogResends() {
        return resends.sum();
    }

    // =====================================================================================
    // Waiting calls: allocation-free
    // =====================================================================================

    /**
     * Runs {@code fn} on core {@code cpu}, waits, and returns its result.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param fn the function to run on the target core, given its id
     * @param <T> the result type
     * @return what {@code fn} returned
     * @throws IllegalArgumentException if the core does not exist
     * @throws SmpCallException         if {@code fn} threw
     * @throws CallTimeoutException     if the core did not answer
     * @throws IllegalStateException    if waiting here is a deadlock hazard
     */
    @SuppressWarnings("unchecked")
    public <T> T call(final int cpu, final CallFunction<T> fn) {
        Objects.requireNonNull(fn, "fn");
        machine.core(cpu); // throws for a core outside the machine
        machine.interrupts().checkOpen();
        final CrossCallEvent jfr = CrossCallEvent.startIfEnabled(callerId()); // null unless recorded
        final Call call = waitedCall(fn, null, Broadcast.flat());
        unicast(call, cpu);
        return (T) finishWaited(call, jfr);
    }

    /**
     * Runs {@code action} on core {@code cpu} and waits; see {@link #call(int, CallFunction)}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param action what to run on each target core, given its id
     */
    public void run(final int cpu, final CoreAction action) {
        Objects.requireNonNull(action, "action");
        machine.core(cpu);
        machine.interrupts().checkOpen();
        final CrossCallEvent jfr = CrossCallEvent.startIfEnabled(callerId());
        final Call call = waitedCall(null, action, Broadcast.flat());
        unicast(call, cpu);
        finishWaited(call, jfr);
    }

    /**
     * Runs {@code action} on every core in {@code cpus} with the default broadcast, and waits.
     *
     * @param cpus the target cores
     * @param action what to run on each target core, given its id
     */
    public void run(final CpuSet cpus, final CoreAction action) {
        run(cpus, null, action, broadcast);
    }

    /**
     * Runs {@code action} on every core in {@code cpus} for which {@code condition} (evaluated
     * here, per target, before sending; null for all) is true, reaching them with {@code shape},
     * and waits for all of them.
     *
     * @param cpus the target cores
     * @param condition evaluated here for each target before sending; only cores for which it is true are called (null: all)
     * @param action what to run on each target core, given its id
     * @param shape how the call reaches its targets
     */
    public void run(final CpuSet cpus, final IntPredicate condition, final CoreAction action, final Broadcast shape) {
        checkMany(cpus, action, shape);
        final CrossCallEvent jfr = CrossCallEvent.startIfEnabled(callerId());
        final Call call = waitedCall(null, action, shape);
        multicast(call, cpus, condition, true);
        finishWaited(call, jfr);
    }

    /**
     * Runs {@code action} on every core of the machine, the caller's own included, and waits (Linux's {@code on_each_cpu}).
     *
     * @param action what to run on each target core, given its id
     */
    public void onEachCore(final CoreAction action) {
        run(CpuSet.firstN(cores), null, action, broadcast);
    }

    /**
     * Runs {@code action} on every core but the caller's own, and waits (Linux's
     * {@code smp_call_function}); from an outside thread, that is every core.
     *
     * @param action what to run on each target core, given its id
     */
    public void onOtherCores(final CoreAction action) {
        run(otherCores(), null, action, broadcast);
    }

    // =====================================================================================
    // Calls that return a future at once
    // =====================================================================================

    /**
     * Runs {@code fn} on core {@code cpu} and returns at once; the future completes with its
     * result when it ran. Allocates the call and its future.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param fn the function to run on the target core, given its id
     * @param <T> the result type
     * @return a future of what {@code fn} returns
     * @throws IllegalArgumentException if the core does not exist
     * @throws MachineClosedException   if the machine is closed (nothing was queued)
     */
    public <T> CallCompletion<T> callAsync(final int cpu, final CallFunction<T> fn) {
        Objects.requireNonNull(fn, "fn");
        return unicastAsync(cpu, fn, null);
    }

    /**
     * Runs {@code action} on core {@code cpu} and returns at once; see {@link #callAsync}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param action what to run on each target core, given its id
     * @return a future that completes when the action ran
     */
    public CallCompletion<Void> runAsync(final int cpu, final CoreAction action) {
        Objects.requireNonNull(action, "action");
        return unicastAsync(cpu, null, action);
    }

    private <T> CallCompletion<T> unicastAsync(final int cpu, final CallFunction<?> fn, final CoreAction action) {
        machine.core(cpu);
        machine.interrupts().checkOpen();
        final Call call = futureCall(fn, action, Broadcast.flat());
        unicast(call, cpu);
        return future(call);
    }

    /**
     * Runs {@code action} on every core in {@code cpus} with the default broadcast; returns at once.
     *
     * @param cpus the target cores
     * @param action what to run on each target core, given its id
     * @return a future that completes when every target ran the action
     */
    public CallCompletion<Void> runAsync(final CpuSet cpus, final CoreAction action) {
        return runAsync(cpus, null, action, broadcast);
    }

    /**
     * Runs {@code action} on every core in {@code cpus} for which {@code condition} (evaluated
     * here, per target, before sending; null for all) is true, reaching them with {@code shape};
     * returns at once. The future completes when every target ran it.
     *
     * @param cpus the target cores
     * @param condition evaluated here for each target before sending; only cores for which it is true are called (null: all)
     * @param action what to run on each target core, given its id
     * @param shape how the call reaches its targets
     * @return a future that completes when every target ran the action
     */
    public CallCompletion<Void> runAsync(final CpuSet cpus, final IntPredicate condition, final CoreAction action,
                                         final Broadcast shape) {
        checkMany(cpus, action, shape);
        final Call call = futureCall(null, action, shape);
        multicast(call, cpus, condition, false);
        return future(call);
    }

    /**
     * {@link #onEachCore} without waiting.
     *
     * @param action what to run on each target core, given its id
     * @return a future that completes when every core ran {@code action}
     */
    public CallCompletion<Void> onEachCoreAsync(final CoreAction action) {
        return runAsync(CpuSet.firstN(cores), null, action, broadcast);
    }

    /**
     * {@link #onOtherCores} without waiting.
     *
     * @param action what to run on each target core, given its id
     * @return a future that completes when every other core ran {@code action}
     */
    public CallCompletion<Void> onOtherCoresAsync(final CoreAction action) {
        return runAsync(otherCores(), null, action, broadcast);
    }

    private CpuSet otherCores() {
        final Core self = machine.currentCore();
        final CpuSet all = CpuSet.firstN(cores);
        return self == null ? all : all.without(self.id());
    }

    private void checkMany(final CpuSet cpus, final CoreAction action, final Broadcast shape) {
        Objects.requireNonNull(cpus, "cpus");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(shape, "shape");
        machine.checkCores(cpus);
        machine.interrupts().checkOpen();
    }

    // =====================================================================================
    // Starting a call
    // =====================================================================================

    /** The caller's reusable call, prepared; a fresh one if it is in use (a nested local call). */
    private Call waitedCall(final CallFunction<?> fn, final CoreAction action, final Broadcast shape) {
        Call call = waitedCalls.get();
        if (call.inUse) {
            call = new Call(cores, timeline);
        }
        call.inUse = true;
        call.prepare(fn, action, shape);
        return call;
    }

    private Call futureCall(final CallFunction<?> fn, final CoreAction action, final Broadcast shape) {
        final Call call = new Call(cores, timeline);
        call.prepare(fn, action, shape);
        call.async = true;
        call.event = CrossCallEvent.startIfEnabled(callerId()); // a fresh call: the store costs no shared line
        return call;
    }

    /** The calling core's id, or -1 for an outside thread. */
    private int callerId() {
        final Core self = machine.currentCore();
        return self == null ? -1 : self.id();
    }

    private void unicast(final Call call, final int cpu) {
        final Core self = machine.currentCore();
        call.targets[0] = cpu;
        call.count = 1;
        if (call.async) {
            call.future = new CallCompletion<>(call.targetSet());
        }
        if (self != null && self.id() == cpu) {
            call.arm();
            runLocally(self, call, 0);
            return;
        }
        call.remoteCount = 1;
        start(call, self, !call.async);
    }

    private void multicast(final Call call, final CpuSet cpus, final IntPredicate condition, final boolean wait) {
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
        if (local) {
            call.targets[n++] = self.id();
        }
        call.count = n;
        if (call.async) {
            call.future = new CallCompletion<>(call.targetSet());
        }
        if (n == 0) {
            call.arm(); // nobody to call: done at once
            if (call.future != null) {
                call.future.finish(null);
            }
            return;
        }
        if (call.remoteCount > 0) {
            start(call, self, wait);
        } else {
            call.arm();
        }
        if (local) {
            runLocally(self, call, call.count - 1); // overlaps with the remote targets
        }
    }

    private void start(final Call call, final Core self, final boolean wait) {
        if (wait) {
            try {
                checkMayWait(self);
            } catch (IllegalStateException e) {
                release(call);
                throw e;
            }
        }
        call.arm();
        switch (call.shape.kind()) {
            case FLAT -> ringAll(call);
            case SERIAL -> enqueue(call, 0, 1); // each target passes the call on when done
            case TREE -> {
                for (int i = 0; i < Math.min(call.shape.fanout(), call.remoteCount); i++) {
                    enqueue(call, i, 1);
                }
            }
            case TOPOLOGY -> {
                // Targets are in id order, so each socket's and each complex's targets are contiguous.
                for (int i = 0; i < call.remoteCount; i++) {
                    if (leads(call, i, true)) {
                        enqueue(call, i, 1);
                    }
                }
            }
            default -> throw new IllegalStateException(call.shape.toString());
        }
    }

    /**
     * Whether remote target {@code i} is the first of its socket ({@code socket}) or of its
     * complex among the call's targets: the core the topology-aware multicast sends to first.
     */
    private boolean leads(final Call call, final int i, final boolean socket) {
        if (i == 0) {
            return true;
        }
        final int a = call.targets[i - 1];
        final int b = call.targets[i];
        return socket ? topology.socket(a) != topology.socket(b) : topology.complex(a) != topology.complex(b);
    }

    /**
     * The topology-aware multicast, on target {@code i}: a socket's first target tells the first
     * target of each other complex of its socket; a complex's first target tells the rest of its
     * complex. With {@code giveUp} not null, gives those targets up with it instead (the machine closed).
     */
    private void fanOutByTopology(final Call call, final int i, final int level, final RuntimeException giveUp) {
        final boolean socketLeader = leads(call, i, true);
        final boolean complexLeader = socketLeader || leads(call, i, false);
        if (!complexLeader) {
            return;
        }
        final int socket = topology.socket(call.targets[i]);
        final int complex = topology.complex(call.targets[i]);
        for (int j = i + 1; j < call.remoteCount && topology.socket(call.targets[j]) == socket; j++) {
            final boolean sameComplex = topology.complex(call.targets[j]) == complex;
            if (!sameComplex && !socketLeader) {
                break;
            }
            if (sameComplex || leads(call, j, false)) {
                if (giveUp == null) {
                    enqueue(call, j, level + 1);
                } else {
                    giveUpFrom(call, j, giveUp);
                }
            }
        }
    }

    /**
     * A flat broadcast: queues the call on every remote target, then rings the ones whose queue
     * was empty in one batch (one PV send-IPI hypercall per 128 of them, see
     * {@link org.ipi4j.Paravirt#SEND_IPI}).
     */
    private void ringAll(final Call call) {
        int n = 0;
        for (int i = 0; i < call.remoteCount; i++) {
            if (machine.isClosed()) {
                giveUpFrom(call, i, new MachineClosedException("machine " + machine.name() + " is closed"));
                continue;
            }
            final CallDescriptor d = call.descriptors[i];
            d.level = 1;
            if (mustRing(call.targets[i], queues[call.targets[i]].push(d))) {
                call.ring[n++] = call.targets[i];
            } else {
                ipisCoalesced.increment();
            }
        }
        if (n > 0) {
            ipisSent.add(n); // less those the closing machine refuses (unreachable)
            machine.interrupts().sendDoorbells(call.ring, n, Vector.CALL_FUNCTION, unreachable);
        }
    }

    private void unreachable(final int cpu) {
        ipisSent.decrement();
        takeBack(cpu, new MachineClosedException("machine " + machine.name() + " is closed"));
    }

    /** Queues target {@code index} of {@code call}; gives it (and whoever it would pass the call to) up if the machine is closed. */
    private void enqueue(final Call call, final int index, final int level) {
        final int cpu = call.targets[index];
        if (machine.isClosed()) {
            giveUpFrom(call, index, new MachineClosedException("machine " + machine.name() + " is closed"));
            return;
        }
        final CallDescriptor d = call.descriptors[index];
        d.level = level;
        if (mustRing(cpu, queues[cpu].push(d))) {
            try {
                machine.interrupts().send(cpu, Vector.CALL_FUNCTION, null);
                ipisSent.increment();
            } catch (MachineClosedException e) {
                takeBack(cpu, e);
            }
        } else {
            ipisCoalesced.increment();
        }
    }

    /**
     * Whether a push must send the call-function IPI: when it found the queue empty (the queue's
     * rule), and also when it did not but the target's CALL_FUNCTION bit is no longer pending.
     * Then the entry that covers the queue has begun: either its handler is about to take the
     * list (ours too, and the extra IPI finds it empty) or the entry failed before the handler
     * ran (an injected handler failure): nothing would take the queue again, and every call in
     * it would wait for the watchdog, or, async, forever. Partner: the handler's accept clears
     * the bit before it takes the list; we push (a CAS), then read the bit (acquire).
     */
    private boolean mustRing(final int cpu, final boolean wasEmpty) {
        return wasEmpty || !machine.interrupts().apic(cpu).pending(Vector.CALL_FUNCTION.number());
    }

    /**
     * The IPI for a queue we found empty could not be sent (the machine is closing): whatever is
     * in that queue now is covered by no IPI. Take it all back and give each call up. A
     * descriptor the target's handler already took is not in the list, so it is answered once,
     * by whichever of us has it (taking a whole list is safe with several takers).
     */
    private void takeBack(final int cpu, final RuntimeException why) {
        CallQueue.Node n = queues[cpu].takeAll();
        while (n != null) {
            final CallDescriptor d = (CallDescriptor) n;
            n = d.next();
            giveUpFrom(d.call(), d.index(), why);
        }
    }

    /**
     * At shutdown: calls still queued on a core, or taken by a core that is stuck inside an
     * earlier call of the same list, will never run there. Answer each "closed", so that every
     * future completes and every waiting caller returns; the claim in each descriptor makes sure
     * a core that comes back later skips them instead of running them. A serial call stuck on a
     * core never reaches the targets after it: they are answered too.
     */
    private void failUnanswered() {
        final MachineClosedException why = new MachineClosedException("machine " + machine.name()
            + " shut down before the core ran the call");
        for (int cpu = 0; cpu < cores; cpu++) {
            takeBack(cpu, why);
            failHeld(queues[cpu], why);
            final CallDescriptor stuck = (CallDescriptor) queues[cpu].running();
            if (stuck != null && stuck.running()) {
                final Call call = stuck.call(); // not reusable while this share is unanswered
                final int next = stuck.index() + 1;
                if (call.shape.kind() == Broadcast.Kind.SERIAL && next < call.remoteCount) {
                    giveUpFrom(call, next, why);
                }
            }
        }
    }

    /** Answers every descriptor the consumer of {@code q} took but has not started (see CallDescriptor.claimHeld). */
    private void failHeld(final CallQueue q, final RuntimeException why) {
        CallDescriptor.claimHeld(q, d -> answered(d.call(), d.index(), why));
    }

    /** Gives up target {@code index} (if no one claimed it first) and every target it would have reached. */
    private void giveUpFrom(final Call call, final int index, final RuntimeException why) {
        if (call.descriptors[index].claimForGiveUp()) {
            answered(call, index, why);
        }
    }

    /**
     * Answers target {@code index}, which the caller claimed, with {@code why}, and gives up first
     * the targets it would have passed the call to (it never will): they are answered before it,
     * since after the last answer the call may be reused.
     */
    private void answered(final Call call, final int index, final RuntimeException why) {
        switch (call.shape.kind()) {
            case SERIAL -> {
                for (int j = index + 1; j < call.remoteCount; j++) {
                    final CallDescriptor d = call.descriptors[j];
                    if (d.claimForGiveUp()) {
                        call.acknowledge(d, why);
                    }
                }
            }
            case TREE -> {
                final int k = call.shape.fanout();
                final int first = (index + 1) * k;
                for (int j = first; j < Math.min(first + k, call.remoteCount); j++) {
                    giveUpFrom(call, j, why);
                }
            }
            case TOPOLOGY -> fanOutByTopology(call, index, 0, why);
            default -> { }
        }
        call.acknowledge(call.descriptors[index], why);
    }

    // =====================================================================================
    // Receiving (interrupt context on the target)
    // =====================================================================================

    private void onCallFunction(final Interrupt irq) {
        final int cpu = irq.cpu();
        final CallQueue q = queues[cpu];
        CallQueue.Node next = q.takeAll();
        timeline.interleave(); // the calls are taken off the queue, not yet run: a caller may queue more, or re-send
        while (next != null) {
            final CallDescriptor d = (CallDescriptor) next;
            next = d.next(); // before the claim: once d is answered, its caller may push it again
            q.hold(next); // the rest stays reachable by shutdown while we run d (partner: failHeld)
            if (!d.start()) {
                continue; // answered already (shutdown gave it up): it must never run
            }
            q.running(d);
            final Call call = d.call();
            final int index = d.index();
            final int level = d.level;
            if (call.shape.kind() == Broadcast.Kind.TREE) {
                // Forward before running, so the subtree works while we do.
                final int k = call.shape.fanout();
                final int first = (index + 1) * k;
                for (int j = first; j < Math.min(first + k, call.remoteCount); j++) {
                    enqueue(call, j, level + 1);
                }
            } else if (call.shape.kind() == Broadcast.Kind.TOPOLOGY) {
                fanOutByTopology(call, index, level, null);
            }
            final Throwable failure = call.invoke(cpu);
            if (call.shape.kind() == Broadcast.Kind.SERIAL && index + 1 < call.remoteCount) {
                enqueue(call, index + 1, level + 1); // before our acknowledgement: after it the call may be reused
            }
            q.running(null);
            call.acknowledge(d, failure);
        }
    }

    private void runLocally(final Core self, final Call call, final int index) {
        localRuns.increment();
        final int cpu = call.targets[index];
        final CallDescriptor d = call.descriptors[index];
        d.start(); // never queued: nobody else can claim it
        final boolean flags = self.disableInterrupts();
        final Throwable failure;
        try {
            failure = call.invoke(cpu);
        } finally {
            self.restoreInterrupts(flags);
        }
        call.acknowledge(d, failure);
    }

    // =====================================================================================
    // Waiting
    // =====================================================================================

    /** Waits for a waited call, hands back its result, and recycles it; finishes its JFR event if any. */
    private Object finishWaited(final Call call, final CrossCallEvent jfr) {
        final int resends;
        try {
            resends = await(call);
        } catch (CallTimeoutException e) {
            if (jfr != null) {
                jfr.finish(call.targetSet(), call.count, call.shape, true, 1, true);
            }
            throw e;
        }
        if (jfr != null) {
            jfr.finish(call.targetSet(), call.count, call.shape, true, resends, call.failed());
        }
        return collect(call);
    }

    /** Hands back a finished waited call's result (or throws its failure) and recycles it. */
    private static Object collect(final Call call) {
        final Object result = call.result();
        final SmpCallException failure = call.failed() ? call.failure() : null;
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

    /** Waits for every acknowledgement; returns the IPIs the watchdog re-sent (0 or 1). */
    private int await(final Call call) {
        final Core self = machine.currentCore();
        long deadline = timeline.nanoTime() + watchdogNanos;
        boolean resent = false;
        int spins = 0;
        if (self != null) {
            call.waiter(self); // published before waitUntil's reads of remaining
        }
        while (!call.isDone()) {
            final long left = deadline - timeline.nanoTime();
            if (left <= 0) {
                if (resent) {
                    final CallTimeoutException timeout = timeout(call);
                    waitedCalls.abandon(call); // late acknowledgements may still arrive: never reuse it
                    throw timeout;
                }
                resent = true;
                resend(call, self);
                deadline = timeline.nanoTime() + watchdogNanos;
                continue;
            }
            if (self != null) {
                // A waiting core keeps taking its own interrupts (another core may be calling
                // us) and idles by the machine's policy; the last acknowledgement wakes it.
                if (yieldToPreempted) {
                    yieldToPreempted(call); // before we wait: a preempted target cannot answer
                }
                self.waitUntil(call.isDone, deadline);
            } else if (++spins < CALLER_SPINS) {
                timeline.spinWait(); // while we spin, no acknowledgement needs to unpark us
            } else {
                // Dekker with the last acknowledgement: publish ourselves, then look again.
                call.waiter(Thread.currentThread());
                if (yieldToPreempted) {
                    yieldToPreempted(call); // before we sleep: a preempted target cannot answer
                }
                if (!call.isDone()) {
                    timeline.parkNanos(this, left);
                }
            }
        }
        return resent ? 1 : 0;
    }

    /**
     * PV directed yield: a target that has not answered because the host preempted it gets the
     * caller's time slice, which here ends its preemption (KVM's yield to a preempted vCPU).
     */
    private void yieldToPreempted(final Call call) {
        for (int i = 0; i < call.remoteCount; i++) {
            if (!call.descriptors[i].acked()) {
                final Core target = machine.core(call.targets[i]);
                if (target.isPreempted()) {
                    target.resume();
                    yields.increment();
                }
            }
        }
    }

    private void resend(final Call call, final Core self) {
        for (int i = 0; i < call.remoteCount; i++) {
            final int cpu = call.targets[i];
            if (!call.descriptors[i].acked() && (self == null || self.id() != cpu)) {
                try {
                    machine.interrupts().resend(cpu, Vector.CALL_FUNCTION);
                    resends.increment();
                } catch (MachineClosedException e) {
                    return;
                }
            }
        }
    }

    private CallTimeoutException timeout(final Call call) {
        final StringBuilder sb = new StringBuilder("cross-core call not acknowledged after ")
            .append(TimeUnit.NANOSECONDS.toMillis(2 * watchdogNanos)).append(" ms (IPI re-sent once); silent cores:");
        CpuSet silent = CpuSet.empty();
        CpuSet unreached = CpuSet.empty();
        CpuSet givenUp = CpuSet.empty();
        for (int i = 0; i < call.count; i++) {
            final CallDescriptor d = call.descriptors[i];
            final boolean answered = d.acked(); // acquire: skipped, written before the ack, is visible
            if (answered && !d.skipped) {
                continue; // it ran (and answered, well or not)
            }
            final int cpu = call.targets[i];
            silent = silent.with(cpu); // every target that did not run the function, reached or not
            if (answered) {
                givenUp = givenUp.with(cpu); // answered without running: the machine is shutting down
                continue;
            }
            if (i < call.remoteCount && d.level == 0 && !d.running()) {
                // Never queued: the core that passes the call on (serial, tree, topology) has
                // not done so. That core is the one to describe; this one did nothing wrong.
                unreached = unreached.with(cpu);
                continue;
            }
            final Core core = machine.core(cpu);
            sb.append("\n  ").append(d.running() ? "running the function: " : "call queued, not taken: ")
                .append(core.describe());
            final StackTraceElement[] stack = core.stackTrace();
            for (int j = 0; j < Math.min(12, stack.length); j++) {
                sb.append("\n      at ").append(stack[j]);
            }
        }
        if (!givenUp.isEmpty()) {
            sb.append("\n  given up without running (the machine is shutting down): ").append(givenUp);
        }
        if (!unreached.isEmpty()) {
            sb.append("\n  not reached yet: ").append(unreached).append(" (").append(unreached.size())
                .append(" target(s); the ").append(call.shape).append(" broadcast passes the call on only from the cores above)");
        }
        return new CallTimeoutException(silent, sb.toString());
    }

    // =====================================================================================

    /**
     * Refuses, before anything happens, what would have to wait for other cores where waiting is
     * a deadlock hazard: on one of this machine's cores inside an interrupt handler or with
     * interrupts disabled (a target may be waiting for this core). Layers that must wait for a
     * cross-core call after a side effect (the MMU's shootdowns) call it before that side effect.
     * Any thread; an outside thread may always wait.
     *
     * @throws IllegalStateException if the calling core may not wait here
     */
    public void checkMayWait() {
        checkMayWait(machine.currentCore());
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
}
