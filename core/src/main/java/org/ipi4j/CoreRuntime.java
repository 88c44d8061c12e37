package org.ipi4j;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

import org.ipi4j.apic.CpuContext;
import org.ipi4j.apic.CpuPort;
import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.IdleLoop;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.apic.LocalApic;
import org.ipi4j.apic.Vcpu;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.CoreStats;
import org.ipi4j.observability.Counter;
import org.ipi4j.time.Timeline;

/**
 * The runtime of one core's thread, behind its face {@link Core}: the thread's body (the run
 * loop, on a {@link CoreThread} that makes, pins and joins the thread), the instruction boundary
 * where interrupts and preemptions are taken (through the core's {@link CpuPort}), the task queue,
 * the owner-only operations, and the stop shutdown asks for. The one place that takes the core's
 * parts from the controller; it sees only a {@link CoreHost}.
 *
 * <p>Thread-safety: the fields under "owned by the core thread" are touched only by that thread,
 * and the owner-only operations check their caller. {@link #submit}, {@link #preempt},
 * {@link #requestStop}, {@link #rejectQueued}, the {@link #thread}'s join and the observers take any thread.
 * A submitter's writes happen-before its task runs (the queue's offer and poll); the task's
 * happen-before its future completes.
 */
final class CoreRuntime {
    final int id;
    private final InterruptController controller;
    private final CoreHost host;
    final CpuPort port; // both halves of this core's delivery: the boundary takes interrupts through it
    final LocalApic apic;
    final IdleLoop idle;
    final CpuContext cpu;
    final Vcpu vcpu; // preemption by the host, and the PV flush word
    private final FaultInjector faults; // null unless a test injects faults
    final Timeline timeline;
    /** What a boundary costs: chosen by the machine, so that the boundary tests no flag. */
    private final Runnable boundaryCost;
    /** Run on resume with a TLB flush left by a shootdown: the machine's PV flush hooks (the MMU's full flush). */
    private final Runnable pvFlush;
    private final TaskQueue runQueue = new TaskQueue(this::afterTask);
    /** Tasks due later, run between tasks like them; shutdown cancels what is left. */
    private final TimerQueue timers;
    private volatile boolean stopRequested;

    // ---- owned by the core thread ---------------------------------------------------------
    private final PreemptCount preemptCount = new PreemptCount();
    private long checkpoints;
    private final Counter exceptions = new Counter();
    private final Counter oopses = new Counter();
    private final Counter tasks = new Counter();
    private final BooleanSupplier runLoopWork = () -> hasWork(true);
    private final BooleanSupplier haltWork = () -> hasWork(false);
    /** What the innermost {@link #waitUntil} waits for; read by {@link #waitWork}. */
    private BooleanSupplier waitCondition;
    private final BooleanSupplier waitWork = this::waitOver;
    private final Runnable afterTimer = this::afterTask;
    /** Boundaries reached, for the stall watch to sample; allocated last, on a line only this thread writes. */
    private final Counter progress = new Counter();

    /** The platform thread the run loop runs on: made by the machine's start, joined by its shutdown. */
    final CoreThread thread;
    private final Counter stalls = new Counter(); // written by the stall watch's thread only
    private final Runnable wakeCore; // a timer's scheduler on another thread wakes the core with it

    CoreRuntime(final int id, final Pinning pinning, final InterruptController controller, final CoreHost host) {
        this.id = id;
        this.controller = controller;
        this.host = host;
        this.port = controller.port(id);
        this.apic = port.apic();
        this.idle = port.idle();
        this.cpu = port.context();
        this.faults = controller.faults();
        this.vcpu = port.vcpu();
        this.timeline = host.timeline();
        this.boundaryCost = host.boundaryCost();
        this.pvFlush = () -> host.pvFlush(id);
        this.timers = new TimerQueue(id, timeline);
        this.wakeCore = idle::wake;
        // The run loop starts only when the machine starts the thread, after this constructor.
        this.thread = new CoreThread(id, pinning == Pinning.BEST_EFFORT ? host.pinner() : null, idle, vcpu, timeline,
            this::runLoop);
    }

    // ---- observers (any thread) ----------------------------------------------------------
    boolean preemptionDisabled() {
        return preemptCount.disabled();
    }

    CoreStats stats() {
        return new CoreStats(id, thread.hostCpu(), cpu.sent(), cpu.received(), cpu.payloadsReceived(), apic.coalesced(),
            idle.unparkWakeups(), idle.elidedWakeups(), cpu.handlerNanos(), cpu.maxInterruptsOffNanos(),
            exceptions.get(), oopses.get() + cpu.handlerFailures(), tasks.get(), stalls.get());
    }

    /** {@return boundaries this core has reached (checkpoints, instructions, run-loop and wait rounds); any thread} */
    long progress() {
        return progress.get() + cpu.sendBackoffs(); // a round backing off from a full mailbox takes our interrupts too
    }

    /** Counts a stall the stall watch reported; the watch's thread only. */
    void stalled() {
        stalls.increment();
    }

    // ---- submission and preemption (any thread) ------------------------------------------
    <T> CompletableFuture<T> submit(final Callable<T> body) {
        final TaskQueue.Task<T> t = runQueue.task(body);
        controller.post(id, runQueue.queue(), t);
        return t;
    }

    /** A timer for {@code task} on this core; see {@link Core#schedule}. Any thread. */
    CoreTimer schedule(final Runnable task, final long delayNanos, final long periodNanos) {
        controller.checkOpen();
        return timers.schedule(task, delayNanos, periodNanos, thread.isCurrent() ? () -> { } : wakeCore);
    }

    /** Asks the host to deschedule this core: for {@code nanos}, or {@link Vcpu#UNTIL_RESUMED}. */
    void preempt(final long nanos) {
        vcpu.preempt(nanos);
        // A shutdown that already asked this core to stop ends every preemption, those asked for
        // after it too: otherwise the draining core would stop at its next boundary for good.
        // Dekker with requestStop: we store the request (volatile), then read stopRequested; it
        // stores stopRequested, then clears the request. One of us sees the other.
        if (stopRequested) {
            vcpu.resume();
        }
    }

    // ---- operations of the core on itself (owner thread only) ----------------------------
    void checkOwner(final String what) {
        if (!thread.isCurrent()) {
            throw new IllegalStateException(what + " must be called on core " + id + "'s own thread, not from "
                + Thread.currentThread().getName());
        }
    }

    /** A Java task's instruction boundary; see {@link Core#checkpoint()}. */
    void checkpoint() {
        checkOwner("checkpoint()");
        boundaryCost.run(); // a boundary lets virtual time pass: a looping task lets the others run
        boundaryFault();
        final long n = ++checkpoints;
        cpu.epc(n);
        if (port.deliverable()) {
            port.deliverPending(n);
        }
    }

    /** A program's instruction boundary, before the instruction at {@code pc}. */
    void boundary(final long pc) {
        cpu.epc(pc);
        boundaryCost.run(); // one instruction's virtual time
        boundaryFault();
        if (port.deliverable()) {
            port.deliverPending(pc); // precise: the instruction at pc has not started
        }
    }

    boolean disableInterrupts() {
        checkOwner("disableInterrupts()");
        if (cpu.mode() == Mode.USER) {
            throw gp(cpu.epc(), "disableInterrupts() in user mode");
        }
        final boolean was = cpu.interruptsEnabled();
        cpu.irqOff();
        return was;
    }

    void restoreInterrupts(final boolean enabled) {
        checkOwner("restoreInterrupts()");
        if (enabled) {
            enableInterrupts();
        }
    }

    void enableInterrupts() {
        checkOwner("enableInterrupts()");
        if (cpu.mode() == Mode.USER) {
            throw gp(cpu.epc(), "enableInterrupts() in user mode");
        }
        cpu.irqOn();
        port.deliverPending(cpu.epc());
    }

    void disablePreemption() {
        checkOwner("disablePreemption()");
        preemptCount.disable();
    }

    void enablePreemption() {
        checkOwner("enablePreemption()");
        if (!preemptCount.enable()) {
            throw new IllegalStateException("enablePreemption() without disablePreemption() on core " + id);
        }
    }

    /** See {@link Core#waitUntil}. */
    boolean waitUntil(final BooleanSupplier condition, final long deadlineNanos) {
        checkOwner("waitUntil()");
        final BooleanSupplier outer = waitCondition; // a handler may wait too: nest, do not allocate
        waitCondition = condition;
        try {
            for (;;) {
                if (condition.getAsBoolean()) {
                    return true;
                }
                boundaryFault();
                if (port.deliverable()) {
                    port.deliverPending(cpu.epc());
                    continue;
                }
                if (deadlineNanos - timeline.nanoTime() <= 0) {
                    return condition.getAsBoolean();
                }
                idle.idleUntil(waitWork, deadlineNanos);
            }
        } finally {
            waitCondition = outer;
        }
    }

    /** A program's {@code HLT} at {@code pc}: idle until an interrupt (or shutdown, which ends the program). */
    void halt(final long pc) {
        idle.idleUntil(haltWork, IdleLoop.NO_DEADLINE);
        if (stopRequested && !port.deliverable()) {
            throw new IllegalStateException("core " + id + " was halted at epc " + pc
                + (cpu.interruptsEnabled() ? "" : " with interrupts disabled") + " when the machine shut down");
        }
    }

    /** Counts and makes a #GP for the caller to throw. */
    GeneralProtectionException gp(final long at, final String why) {
        exceptions.increment();
        return new GeneralProtectionException(id, at, why);
    }

    /** Counts an exception other than a #GP (which {@link #gp} counted). */
    void exceptionTaken() {
        exceptions.increment();
    }

    ExceptionHandler exceptionHandler(final Vector vector) {
        return controller.exceptionHandler(vector);
    }

    void send(final int target, final Vector vector, final Object payload) {
        controller.send(target, vector, payload);
    }

    /** Counts and records an oops of this core. */
    void oops(final Vector vector, final String what, final Throwable error) {
        oopses.increment();
        host.oops(id, vector, what, error);
    }

    // ---- the core thread's body ------------------------------------------------------------
    private void runLoop() {
        for (;;) {
            cpu.epc(-1L);
            boundaryFault();
            if (port.deliverable()) {
                port.deliverPending(-1);
            }
            if (timers.due()) {
                timers.runDue(afterTimer);
            }
            final Runnable task = runQueue.poll();
            if (task != null) {
                checkpoints = 0;
                cpu.epc(0L); // a task's EPC counts its checkpoints from 0, not the idle loop's -1 (Core.epc)
                task.run(); // Task.run calls afterTask() before completing its future
            } else if (stopRequested) {
                // Closed: no new sends can arrive (shutdown waited for senders in flight).
                if (!apic.anyPending() && runQueue.isEmpty()) {
                    return;
                }
            } else {
                idle.idleUntil(runLoopWork, timers.deadline()); // a parked core wakes for its next timer
            }
        }
    }

    /** Repairs what a task must not leave behind; runs before the task's future completes. */
    private void afterTask() {
        tasks.increment();
        if (!cpu.interruptsEnabled()) {
            oops(null, "task returned with interrupts disabled; re-enabled", null);
            cpu.irqOn();
        }
        if (preemptCount.disabled()) {
            oops(null, "task returned with preemption disabled; re-enabled", null);
            preemptCount.clear();
        }
        if (cpu.mode() != Mode.KERNEL) {
            cpu.mode(Mode.KERNEL);
        }
    }

    /**
     * The work an idle core waits for. Every read is volatile: this is the re-check after PARKED
     * (partners: the sender's IRR raise and {@link InterruptController#post}'s offer, each then
     * reading the idle state; a new earliest timer's rearm store, then its waker's read; shutdown's
     * {@code stopRequested} store, then an unconditional unpark).
     */
    private boolean hasWork(final boolean runnable) {
        return stopRequested || port.deliverable() || (runnable && (!runQueue.isEmpty() || timers.rearmed()))
            || vcpu.requested();
    }

    /**
     * An instruction boundary's host side: an injected fault (a freeze) if a test installed one,
     * and a preemption if the host asked for one (the core stops here; on resume it runs a pending
     * PV flush first).
     */
    private void boundaryFault() {
        progress.increment(); // a release store, no clock read: the stall watch samples it
        if (faults != null) {
            faults.atBoundary(id);
        }
        if (vcpu.requested()) {
            // Posted mode: SN while descheduled, so senders do not signal a core that cannot run.
            final boolean posted = apic.posted();
            if (posted) {
                apic.suppressNotifications(true);
            }
            vcpu.stopIfRequested(pvFlush);
            if (posted) {
                apic.suppressNotifications(false); // the run loop looks at the PIR next
            }
        }
    }

    /** The innermost wait's condition holds, or an interrupt can be taken, or the host preempts us. */
    private boolean waitOver() {
        return waitCondition.getAsBoolean() || port.deliverable() || vcpu.requested();
    }

    // ---- stopping (shutdown's side) ------------------------------------------------------
    /** Asks the core to stop once it has drained its work, and wakes it whatever it is doing. */
    void requestStop() {
        stopRequested = true; // partner: preempt's read, after a preemption request's store
        vcpu.resume(); // a preempted core must run to drain and stop
        idle.wakeUnconditionally();
    }

    /** Pending interrupts left on a core that will run no more (shutdown). */
    List<UndeliveredInterrupt> leftovers() {
        return apic.takeAll();
    }

    /** Fails every task still queued (the core will never run them); returns how many. */
    int rejectQueued(final RuntimeException why) {
        return runQueue.rejectAll(why);
    }

    /** Closes this core's timers and cancels those left (shutdown): their futures fail with MachineClosedException. */
    void cancelTimers() {
        timers.closeAll();
    }
}
