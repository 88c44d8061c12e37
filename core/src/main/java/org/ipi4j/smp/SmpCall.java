package org.ipi4j.smp;

import java.time.Duration;
import java.util.Objects;
import java.util.function.IntPredicate;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Vector;

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
 *       reports what each silent core was doing. Nothing is cancelled then: the call stays queued.</li>
 *   <li>A call made through {@link #withDeadline} ends by its deadline, waited or async: a target
 *       that has not started the function by then never runs it, one that started is reported
 *       running ({@link CallTimeoutException#cancelled()}, {@link CallTimeoutException#running()}).
 *       {@link CallCompletion#cancel()} removes the targets not started. See docs/CALLS.md.</li>
 *   <li>A call refused or abandoned because the machine is shutting down throws (or completes
 *       with) {@link MachineClosedException}, and only that.</li>
 *   <li>Backpressure: {@link SmpCallBuilder#queueCapacity} bounds each core's unanswered async calls,
 *       {@link #inGroup} a {@link ServiceGroup}'s calls in flight; a full one refuses the call
 *       whole ({@link org.ipi4j.interrupts.MailboxFullException}) or waits for room, by policy.</li>
 *   <li>Waiting from an interrupt handler, or with interrupts disabled, for another core is a
 *       deadlock hazard (that core may be waiting for us) and fails at once with
 *       {@link IllegalStateException}. A core that waits with interrupts enabled keeps taking its
 *       own interrupts, so two cores calling each other do not deadlock.</li>
 * </ul>
 * The function runs in interrupt context on the target (kernel mode, interrupts disabled): it must
 * be short and must not wait for other cores. Dependent stages of a returned future run on the
 * core that completed it unless added with an {@code *Async} method. Thread-safe.
 *
 * <p>{@link #withDeadline} and {@link #inGroup} return views: the same layer (queues, handler,
 * counters), with their own deadline and service group for every call made through them.
 *
 * <p>This class is the contract and checks the arguments. The caller's side (call object, targets,
 * local share) is {@link CallInitiator}; the CALL_FUNCTION protocol, sending above receiving, is
 * {@link CallDelivery}; whom each core passes a call to is the broadcast's {@link Shape}; how the
 * caller waits, with the watchdog, is {@link CallWait}.
 */
public final class SmpCall {
    /** The layer's default: a wait on the watchdog's terms, nothing cancelled. */
    private static final long NO_DEADLINE = 0;

    private final Machine machine;
    private final int cores;
    private final long watchdogNanos;
    private final Broadcast broadcast;
    /** How a waited call's caller waits, with the watchdog. */
    private final CallWait waiting;
    /** The CALL_FUNCTION protocol: queues, IPIs, the handler, giving up. */
    private final CallDelivery delivery;
    /** The caller's side: the call object, the targets, the local share, the wait. */
    private final CallInitiator initiator;
    /** This view's deadline for every call made through it, in nanoseconds; 0 for none. */
    private final long deadlineNanos;
    /** This view's service group, or null. */
    private final ServiceGroup group;
    /** The installed layer, of which every view is a copy with its own deadline and group. */
    private final SmpCall layer;
    /**
     * False for the view a continuation's call is made through: it is made from whatever thread
     * completed its source (a core's handler, the deadline timer), which must not wait for room.
     */
    private final boolean waitsForRoom;

    SmpCall(final Machine machine, final Duration watchdog, final Broadcast broadcast, final CallBound bound) {
        this.waitsForRoom = true;
        this.machine = machine;
        this.cores = machine.coreCount();
        this.watchdogNanos = nanosAtMost(watchdog, Long.MAX_VALUE / 8); // a wait lasts two: no overflow
        this.broadcast = broadcast;
        this.waiting = new CallWait(machine, watchdogNanos, machine.paravirt(Paravirt.SCHED_YIELD));
        this.delivery = new CallDelivery(machine);
        this.initiator = new CallInitiator(machine, delivery, waiting, bound);
        this.deadlineNanos = NO_DEADLINE;
        this.group = null;
        this.layer = this;
    }

    /** A view of {@code base}'s layer with its own deadline and group. */
    private SmpCall(final SmpCall base, final long deadlineNanos, final ServiceGroup group) {
        this(base, deadlineNanos, group, base.waitsForRoom);
    }

    private SmpCall(final SmpCall base, final long deadlineNanos, final ServiceGroup group, final boolean waitsForRoom) {
        this.waitsForRoom = waitsForRoom;
        this.layer = base.layer;
        this.machine = base.machine;
        this.cores = base.cores;
        this.watchdogNanos = base.watchdogNanos;
        this.broadcast = base.broadcast;
        this.waiting = base.waiting;
        this.delivery = base.delivery;
        this.initiator = base.initiator;
        this.deadlineNanos = deadlineNanos;
        this.group = group;
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
        return builder(machine).watchdog(watchdog).broadcast(broadcast).install();
    }

    /**
     * {@return a builder for a layer on {@code machine}: watchdog, broadcast, per-core queue capacity}
     *
     * @param machine the machine
     */
    public static SmpCallBuilder builder(final Machine machine) {
        return new SmpCallBuilder(Objects.requireNonNull(machine, "machine"));
    }

    /**
     * A view of this layer whose calls all have {@code deadline}, counted from when each call
     * begins (waiting for queue or group room included): a waited call returns or throws by then,
     * an async call's future completes by then. Targets that have not started the function at the
     * deadline never run it; see {@link CallTimeoutException}. The watchdog re-sends the IPI at
     * {@code min(watchdog, deadline / 2)}. The view shares everything else with this layer; keep
     * it (making one per call allocates one small object). Use it for calls that a client may
     * retry; a call that must still run late (a TLB flush) is made without one.
     *
     * @param deadline positive
     * @return the view
     * @throws IllegalArgumentException if {@code deadline} is not positive
     */
    public SmpCall withDeadline(final Duration deadline) {
        Objects.requireNonNull(deadline, "deadline");
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be positive: " + deadline);
        }
        return new SmpCall(this, nanosAtMost(deadline, Long.MAX_VALUE / 4), group); // ~36,000 years: "forever"
    }

    /** {@code d} in nanoseconds, at most {@code max}: a duration too long for a long (FOREVER) is clamped, not an overflow. */
    private static long nanosAtMost(final Duration d, final long max) {
        return d.compareTo(Duration.ofNanos(max)) >= 0 ? max : d.toNanos();
    }

    /**
     * A view of this layer whose calls each take a place in {@code group} while in flight; see
     * {@link ServiceGroup}. Keeps this view's deadline.
     *
     * @param group the group
     * @return the view
     */
    public SmpCall inGroup(final ServiceGroup group) {
        return new SmpCall(this, deadlineNanos, Objects.requireNonNull(group, "group"));
    }

    /** {@return the deadline of calls made through this view, or null: none (the watchdog's terms, nothing cancelled)} */
    public Duration deadline() {
        return deadlineNanos == NO_DEADLINE ? null : Duration.ofNanos(deadlineNanos);
    }

    /**
     * {@return the layer as installed, without this view's deadline or group} For calls that must
     * run even late (the MMU's shootdowns: a flush cancelled would leave a stale translation).
     */
    public SmpCall layer() {
        return layer;
    }

    /** {@return the service group of calls made through this view, or null} */
    public ServiceGroup group() {
        return group;
    }

    /** {@return false for a continuation's view: full room refuses its call at once, BLOCK or not} */
    boolean waitsForRoom() {
        return waitsForRoom;
    }

    /** {@return this view, whose calls never wait for queue or group room} For continuations. */
    SmpCall withoutWaitingForRoom() {
        return waitsForRoom ? new SmpCall(this, deadlineNanos, group, false) : this;
    }

    long deadlineNanos() {
        return deadlineNanos;
    }

    CallDelivery delivery() {
        return delivery;
    }

    /** {@return each core's capacity of unanswered async calls, or 0 if unbounded} */
    public int queueCapacity() {
        final CallBound b = initiator.bound();
        return b == null ? 0 : b.capacity();
    }

    /** {@return the machine this layer runs on} */
    public Machine machine() {
        return machine;
    }

    /** {@return the default broadcast shape} */
    public Broadcast broadcast() {
        return broadcast;
    }

    /** {@return how long a wait lasts before the IPI is re-sent, and again before it gives up} */
    public Duration watchdog() {
        return Duration.ofNanos(watchdogNanos);
    }

    /** {@return call-function IPIs sent (a target's queue was idle, or a re-send)} */
    public long ipisSent() {
        return delivery.ipisSent();
    }

    /** {@return descriptors queued behind others without an IPI of their own} */
    public long ipisCoalesced() {
        return delivery.ipisCoalesced();
    }

    /** {@return calls (or shares of calls) run locally on the caller's own core} */
    public long localRuns() {
        return initiator.localRuns();
    }

    /** {@return times a waiting caller yielded to a preempted target (PV directed yield), ending its preemption} */
    public long yieldsToPreempted() {
        return waiting.yields();
    }

    /** {@return IPIs re-sent by the watchdog} */
    public long watchdogResends() {
        return waiting.resends();
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
        return (T) initiator.waited(cpu, fn, null, this);
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
        initiator.waited(cpu, null, action, this);
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
        initiator.waited(cpus, condition, action, shape, this);
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
        return initiator.async(cpu, fn, action, this);
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
        return initiator.async(cpus, condition, action, shape, this);
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

    /**
     * The exception this layer's watchdog throws, for a layer that waits for cores on the
     * watchdog's terms without a call (the MMU's TLBSYNC waits at most two watchdog periods for a
     * core inside a translation): {@code what} as the headline, then each core of {@code cores}
     * described as a silent target of a call is (state, mode, interrupt flag, the handler it is
     * in, its stack). Allocates; failure path only.
     *
     * @param cores the cores that did not finish
     * @param what what was waited for, and for how long
     * @return the exception, naming {@code cores} in {@link CallTimeoutException#cpus()}
     */
    public CallTimeoutException timeout(final CpuSet cores, final String what) {
        Objects.requireNonNull(cores, "cores");
        Objects.requireNonNull(what, "what");
        machine.checkCores(cores);
        return waiting.timeout(cores, what);
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
        CallWait.checkMayWait(machine.currentCore());
    }
}
