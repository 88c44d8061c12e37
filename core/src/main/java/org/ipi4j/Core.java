package org.ipi4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import net.openhft.affinity.AffinityLock;
import org.agrona.concurrent.IdleStrategy;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.LocalApic;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Instruction;
import org.ipi4j.isa.Memory;
import org.ipi4j.isa.Program;
import org.ipi4j.isa.ProgramResult;
import org.ipi4j.observability.CoreStats;
import org.ipi4j.observability.Counter;
import org.jctools.queues.MpscUnboundedArrayQueue;

/**
 * One emulated core: a platform thread, pinned to a host CPU where possible, that runs Java
 * tasks and {@link Program}s and takes interrupts at instruction boundaries.
 *
 * <h2>Where interrupts are taken</h2>
 * Only at an instruction boundary with interrupts enabled: before each instruction of a
 * program, at every {@link #checkpoint()} a Java task calls, between tasks, and when the core
 * wakes from idle. Both paths use the same entry: save a {@link TrapFrame}, enter
 * {@link Mode#KERNEL} with interrupts disabled, run the handler, end of interrupt, restore the
 * frame exactly. The highest pending vector is taken first.
 *
 * <h2>Thread-safety</h2>
 * The methods that act on the core itself ({@link #checkpoint()}, {@link #disableInterrupts()},
 * {@link #restoreInterrupts(boolean)}, {@link #enableInterrupts()},
 * {@link #disablePreemption()}, {@link #enablePreemption()}) may only be called from this core's
 * own thread and throw {@link IllegalStateException} otherwise. {@link #submit(Runnable)},
 * {@link #execute(Program, Mode)} and the observers ({@link #state()}, {@link #mode()},
 * {@link #epc()}, {@link #stats()}, ...) may be called from any thread; observers return a
 * recent value, not a locked snapshot.
 *
 * <h2>Happens-before</h2>
 * Everything a thread did before {@code submit} happens-before the task runs; everything the
 * task did happens-before the returned future completes.
 */
public final class Core {
    /** What a core is doing, as seen from outside. */
    public enum State {
        /** The machine has not started. */
        NEW,
        /** Running a task, a program or a handler. */
        RUNNING,
        /** Idle and polling: it will notice work by itself, senders make no system call. */
        IDLE_POLLING,
        /** Idle and parked: a sender must unpark it. */
        IDLE_PARKED,
        /** Its thread has ended (after shutdown). */
        HALTED
    }

    private static final int S_NEW = 0;
    private static final int S_RUNNING = 1;
    private static final int S_POLLING = 2;
    private static final int S_PARKED = 3;
    private static final int S_HALTED = 4;
    private static final State[] STATES = State.values();
    /** Deadline meaning "none" for idleUntil (nanoTime never returns it in practice). */
    private static final long NO_DEADLINE = Long.MIN_VALUE;

    private static final VarHandle EPC;
    private static final VarHandle MODE;
    private static final VarHandle IF;
    private static final VarHandle IN_SERVICE;
    private static final VarHandle IRQ_OFF_SINCE;
    private static final VarHandle PREEMPT;
    private static final VarHandle IRQ_ON_AT;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            EPC = l.findVarHandle(Core.class, "epc", long.class);
            MODE = l.findVarHandle(Core.class, "mode", Mode.class);
            IF = l.findVarHandle(Core.class, "interruptsEnabled", boolean.class);
            IN_SERVICE = l.findVarHandle(Core.class, "inService", int.class);
            IRQ_OFF_SINCE = l.findVarHandle(Core.class, "irqOffSince", long.class);
            PREEMPT = l.findVarHandle(Core.class, "preemptDepth", int.class);
            IRQ_ON_AT = l.findVarHandle(Core.class, "irqOnAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Machine machine;
    private final int id;
    private final IdlePolicy idlePolicy;
    private final Pinning pinning;

    // ---- written by senders -------------------------------------------------------------
    /** Pending bits and mailboxes: written by senders, taken by this core. */
    final LocalApic apic;
    /** Senders and submitters currently between their closed-check and their enqueue. */
    final AtomicInteger inFlight = new AtomicInteger();
    final LongAdder coalesced = new LongAdder();
    final LongAdder unparkWakeups = new LongAdder();
    final LongAdder elidedWakeups = new LongAdder();
    final MpscUnboundedArrayQueue<Runnable> runQueue = new MpscUnboundedArrayQueue<>(64);
    volatile int idleState = S_NEW;
    volatile boolean stopRequested;

    // ---- owned by the core thread, published with opaque stores for observers ------------
    private long epc = -1;
    private Mode mode = Mode.KERNEL;
    private boolean interruptsEnabled = true;
    private int inService = -1;
    private long irqOffSince;
    private long irqOnAt;
    private int preemptDepth;
    private long checkpoints;
    private long sink;

    final Counter sent = new Counter();
    private final Counter received = new Counter();
    private final Counter payloads = new Counter();
    private final Counter handlerNanos = new Counter();
    private final Counter maxIrqOffNanos = new Counter();
    private final Counter exceptions = new Counter();
    private final Counter oopses = new Counter();
    private final Counter tasks = new Counter();

    /** Agrona strategy for the polling stage of idling; this core's own instance. */
    private final IdleStrategy pollingStrategy;
    private final BooleanSupplier runLoopWork = () -> hasWork(true);
    private final BooleanSupplier haltWork = () -> hasWork(false);

    private volatile Thread thread;
    private volatile int hostCpu = -1;

    Core(final Machine machine, final int id, final IdlePolicy idlePolicy, final Pinning pinning) {
        this.machine = machine;
        this.id = id;
        this.idlePolicy = idlePolicy;
        this.pinning = pinning;
        this.apic = new LocalApic(id);
        this.pollingStrategy = idlePolicy.pollingStrategy();
    }

    // =====================================================================================
    // Identity and observation (any thread)
    // =====================================================================================

    /** The core running the calling thread, or null if the caller is not a core. */
    public static Core current() {
        return Thread.currentThread() instanceof CoreThread t ? t.core : null;
    }

    /** This core's id, 0 to {@code machine.coreCount() - 1}. */
    public int id() {
        return id;
    }

    /** The machine this core belongs to. */
    public Machine machine() {
        return machine;
    }

    /** Host CPU this core's thread is pinned to, or -1 if it runs unpinned. */
    public int hostCpu() {
        return hostCpu;
    }

    /** What the core is doing now. */
    public State state() {
        return STATES[idleState];
    }

    /** Current privilege level. */
    public Mode mode() {
        return (Mode) MODE.getOpaque(this);
    }

    /** Current interrupt flag. */
    public boolean interruptsEnabled() {
        return (boolean) IF.getOpaque(this);
    }

    /** True while preemption is disabled on this core. */
    public boolean preemptionDisabled() {
        return (int) PREEMPT.getOpaque(this) > 0;
    }

    /**
     * Current EPC: the next instruction of the running program, the checkpoint count of the
     * running Java task, or -1 when idle.
     */
    public long epc() {
        return (long) EPC.getOpaque(this);
    }

    /**
     * {@link System#nanoTime()} when code last re-enabled interrupts on this core (0 if never):
     * lets a measurement split a delivery delay into "interrupts were off" and the rest.
     */
    public long lastInterruptsEnabledAt() {
        return (long) IRQ_ON_AT.getOpaque(this);
    }

    /** Vector whose handler is running now, or -1. */
    public int inServiceVector() {
        return (int) IN_SERVICE.getOpaque(this);
    }

    /** True if any vector is pending in this core's IRR. */
    public boolean hasPendingInterrupts() {
        return anyPending();
    }

    /** One line saying what this core is doing, for watchdog reports. */
    public String describe() {
        final StringBuilder sb = new StringBuilder()
            .append("core ").append(id)
            .append(" [").append(state()).append(", ").append(mode())
            .append(", interrupts ").append(interruptsEnabled() ? "on" : "off");
        if (!interruptsEnabled()) {
            final long since = (long) IRQ_OFF_SINCE.getOpaque(this);
            if (since != 0) {
                sb.append(" for ").append((System.nanoTime() - since) / 1000).append("us");
            }
        }
        final int vec = inServiceVector();
        if (vec >= 0) {
            sb.append(", in handler for ").append(Vector.of(vec));
        }
        sb.append(", epc ").append(epc()).append(", host cpu ").append(hostCpu).append(']');
        return sb.toString();
    }

    /** The core thread's id (for CPU-time accounting with {@code ThreadMXBean}), or -1 before start. */
    public long threadId() {
        final Thread t = thread;
        return t == null ? -1 : t.getId();
    }

    /** The core thread's current stack, or an empty array if it is not running. */
    public StackTraceElement[] stackTrace() {
        final Thread t = thread;
        return t == null ? new StackTraceElement[0] : t.getStackTrace();
    }

    /** A snapshot of this core's counters. */
    public CoreStats stats() {
        return new CoreStats(id, hostCpu, sent.get(), received.get(), payloads.get(), coalesced.sum(),
            unparkWakeups.sum(), elidedWakeups.sum(), handlerNanos.get(), maxIrqOffNanos.get(),
            exceptions.get(), oopses.get(), tasks.get());
    }

    // =====================================================================================
    // Work submission (any thread)
    // =====================================================================================

    /**
     * Queues {@code task} to run on this core in {@link Mode#KERNEL} and wakes the core with a
     * {@link Vector#RESCHEDULE} IPI if it is parked (elided if it is running or polling).
     * Tasks on one core run one at a time, in submission order per submitter.
     *
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closing
     */
    public CompletableFuture<Void> submit(final Runnable task) {
        Objects.requireNonNull(task, "task");
        return submit(() -> {
            task.run();
            return null;
        });
    }

    /** Like {@link #submit(Runnable)}, completing with the task's result. */
    public <T> CompletableFuture<T> submit(final Callable<T> task) {
        Objects.requireNonNull(task, "task");
        final CompletableFuture<T> future = new CompletableFuture<>();
        enqueue(new Task<>(task, future));
        return future;
    }

    /** Runs {@code program} on this core in {@code mode}, with physical addresses. */
    public CompletableFuture<ProgramResult> execute(final Program program, final Mode mode) {
        return execute(program, mode, null);
    }

    /**
     * Runs {@code program} on this core in {@code mode}; loads and stores go through
     * {@code translation} (null for physical addresses). The future completes with the final
     * registers, or exceptionally with the {@link CpuException} that killed the program.
     */
    public CompletableFuture<ProgramResult> execute(final Program program, final Mode mode,
                                                    final AddressTranslation translation) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(mode, "mode");
        return submit(() -> interpret(program, mode, translation));
    }

    private void enqueue(final Task<?> task) {
        inFlight.incrementAndGet();
        try {
            machine.interrupts().checkOpen();
            runQueue.offer(task);
            // Dekker with idle(): we publish the task, then read the idle state; the core
            // publishes PARKED, then re-reads the queue. One of us sees the other.
            VarHandle.fullFence();
            if (idleState == S_PARKED) {
                machine.interrupts().raise(this, Vector.RESCHEDULE.number(), machine.currentCore());
            } else {
                elidedWakeups.increment();
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    // =====================================================================================
    // Operations of the core on itself (owner thread only)
    // =====================================================================================

    private void checkOwner(final String what) {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException(what + " must be called on core " + id + "'s own thread, not from "
                + Thread.currentThread().getName());
        }
    }

    /**
     * An instruction boundary for Java tasks: if interrupts are enabled and any are pending,
     * take them all (highest vector first) before returning. Cheap when nothing is pending
     * (four acquire loads). Preemption being disabled does not block interrupts.
     */
    public void checkpoint() {
        checkOwner("checkpoint()");
        final long n = ++checkpoints;
        EPC.setOpaque(this, n);
        if (interruptsEnabled && anyPending()) {
            deliverPending(n);
        }
    }

    /**
     * Disables interrupt delivery on this core and returns the previous flag, like
     * {@code local_irq_save}. Nesting-safe: pass the result to {@link #restoreInterrupts}.
     *
     * @throws GeneralProtectionException in user mode
     */
    public boolean disableInterrupts() {
        checkOwner("disableInterrupts()");
        if (mode == Mode.USER) {
            throw gp(epc, "disableInterrupts() in user mode");
        }
        final boolean was = interruptsEnabled;
        irqOff();
        return was;
    }

    /**
     * Restores the flag {@link #disableInterrupts()} returned, like {@code local_irq_restore};
     * re-enabling takes what became pending at once.
     */
    public void restoreInterrupts(final boolean enabled) {
        checkOwner("restoreInterrupts()");
        if (enabled) {
            enableInterrupts();
        }
    }

    /** Enables interrupts and takes whatever is pending. */
    public void enableInterrupts() {
        checkOwner("enableInterrupts()");
        if (mode == Mode.USER) {
            throw gp(epc, "enableInterrupts() in user mode");
        }
        irqOn();
        if (anyPending()) {
            deliverPending(epc);
        }
    }

    /**
     * Disables preemption (nesting counter, like {@code preempt_disable}): the scheduler will
     * not switch tasks on this core, but interrupts are still taken.
     */
    public void disablePreemption() {
        checkOwner("disablePreemption()");
        PREEMPT.setOpaque(this, preemptDepth + 1);
    }

    /** Undoes one {@link #disablePreemption()}. */
    public void enablePreemption() {
        checkOwner("enablePreemption()");
        if (preemptDepth == 0) {
            throw new IllegalStateException("enablePreemption() without disablePreemption() on core " + id);
        }
        PREEMPT.setOpaque(this, preemptDepth - 1);
    }

    // =====================================================================================
    // The run loop
    // =====================================================================================

    Thread newThread(final String name, final Runnable onStarted) {
        final CoreThread t = new CoreThread(this, name, onStarted);
        t.setDaemon(true); // a stuck core must not keep the JVM alive; shutdown reports it
        thread = t;
        return t;
    }

    private static final class CoreThread extends Thread {
        final Core core;
        final Runnable onStarted;

        CoreThread(final Core core, final String name, final Runnable onStarted) {
            super(name);
            this.core = core;
            this.onStarted = onStarted;
        }

        @Override
        public void run() {
            core.runOnThread(onStarted);
        }
    }

    private void runOnThread(final Runnable onStarted) {
        AffinityLock lock = null;
        if (pinning == Pinning.BEST_EFFORT) {
            try {
                lock = AffinityLock.acquireLock();
                if (lock.isAllocated()) {
                    hostCpu = lock.cpuId();
                } else {
                    lock.release();
                    lock = null;
                }
            } catch (Throwable noNativeSupport) { // best effort: run unpinned
                lock = null;
            }
        }
        idleState = S_RUNNING;
        onStarted.run();
        try {
            runLoop();
        } finally {
            idleState = S_HALTED;
            if (lock != null) {
                lock.release();
            }
        }
    }

    private void runLoop() {
        for (;;) {
            EPC.setOpaque(this, -1L);
            if (anyPending()) {
                deliverPending(-1);
            }
            final Runnable task = runQueue.poll();
            if (task != null) {
                runTask(task);
            } else if (stopRequested) {
                // Closed: no new sends can arrive (shutdown waited for senders in flight).
                if (!anyPending() && runQueue.isEmpty()) {
                    return;
                }
            } else {
                idle(true);
            }
        }
    }

    private void runTask(final Runnable task) {
        checkpoints = 0;
        task.run(); // Task.run calls afterTask() before completing its future
    }

    /** Repairs what a task must not leave behind; runs before the task's future completes. */
    private void afterTask() {
        tasks.increment();
        if (!interruptsEnabled) {
            oops(null, "task returned with interrupts disabled; re-enabled", null, List.of());
            irqOn();
        }
        if (preemptDepth != 0) {
            oops(null, "task returned with preemption disabled; re-enabled", null, List.of());
            PREEMPT.setOpaque(this, 0);
        }
        if (mode != Mode.KERNEL) {
            MODE.setOpaque(this, Mode.KERNEL);
        }
    }

    /**
     * Waits for work. With {@code runnable}, queued tasks count as work (the run loop);
     * without, only deliverable interrupts and shutdown do (HLT inside a program).
     */
    private void idle(final boolean runnable) {
        idleUntil(runnable ? runLoopWork : haltWork, NO_DEADLINE);
    }

    /**
     * The one idle loop: polls the way the idle policy says, then publishes PARKED and parks,
     * until {@code done} holds or the deadline passes. {@code done} is looked at again after
     * PARKED is published (Dekker with senders and {@link #wake()}), so no wake-up is lost.
     */
    private void idleUntil(final BooleanSupplier done, final long deadlineNanos) {
        final long pollRounds = idlePolicy.pollRoundsBeforePark();
        pollingStrategy.reset();
        long rounds = 0;
        idleState = S_POLLING;
        try {
            while (!done.getAsBoolean()) {
                final long left = deadlineNanos == NO_DEADLINE ? Long.MAX_VALUE : deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                if (rounds < pollRounds) {
                    pollingStrategy.idle();
                    rounds++;
                } else {
                    idleState = S_PARKED;
                    if (done.getAsBoolean()) {
                        return;
                    }
                    if (deadlineNanos == NO_DEADLINE) {
                        LockSupport.park(this);
                    } else {
                        LockSupport.parkNanos(this, left);
                    }
                }
            }
        } finally {
            idleState = S_RUNNING;
        }
    }

    /**
     * Waits on this core until {@code condition} holds or {@link System#nanoTime()} reaches
     * {@code deadlineNanos}, taking interrupts meanwhile and waiting the way the machine's
     * {@link IdlePolicy} says: a polling wait notices by itself; a parked wait is woken by an IPI
     * or by {@link #wake()}, which whoever makes the condition true must call after making it
     * true. Owner thread only; the condition must be cheap and side-effect free.
     *
     * @return true if the condition held, false at the deadline
     */
    public boolean waitUntil(final BooleanSupplier condition, final long deadlineNanos) {
        checkOwner("waitUntil()");
        final BooleanSupplier wakeUp = () -> condition.getAsBoolean() || (interruptsEnabled && anyPending());
        for (;;) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (interruptsEnabled && anyPending()) {
                deliverPending(epc);
                continue;
            }
            if (deadlineNanos - System.nanoTime() <= 0) {
                return condition.getAsBoolean();
            }
            idleUntil(wakeUp, deadlineNanos);
        }
    }

    /**
     * Unparks this core if it is parked (idle, or in {@link #waitUntil}); a no-op otherwise.
     * Call it after making a {@code waitUntil} condition true. Any thread.
     */
    public void wake() {
        unparkIfParked();
    }

    private boolean hasWork(final boolean runnable) {
        return stopRequested || (interruptsEnabled && anyPending()) || (runnable && !runQueue.isEmpty());
    }

    /** Unparks this core if it sleeps; called after a pending bit or a task was published. */
    void kick() {
        if (!unparkIfParked()) {
            elidedWakeups.increment();
        }
    }

    private boolean unparkIfParked() {
        if (idleState == S_PARKED) {
            unparkWakeups.increment();
            LockSupport.unpark(thread);
            return true;
        }
        return false;
    }

    /** Wakes the core whatever it is doing (shutdown). */
    void wakeForShutdown() {
        stopRequested = true;
        final Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    boolean isAlive() {
        final Thread t = thread;
        return t != null && t.isAlive();
    }

    boolean join(final long millis) throws InterruptedException {
        final Thread t = thread;
        if (t == null) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    // =====================================================================================
    // Interrupt entry and exit
    // =====================================================================================

    private boolean anyPending() {
        return apic.anyPending();
    }

    private void deliverPending(final long resumeAt) {
        int v;
        while (interruptsEnabled && (v = apic.highestPending()) >= 0) {
            takeInterrupt(v, resumeAt);
        }
    }

    private void takeInterrupt(final int v, final long resumeAt) {
        // The bit is cleared before the mailbox is drained: a payload that arrives after our
        // drain raises the bit again (see LocalApic), so it is never stranded.
        final List<Object> drained = apic.accept(v);

        final Vector vector = Vector.of(v);
        final TrapFrame frame = new TrapFrame(id, vector, resumeAt, mode, interruptsEnabled);
        MODE.setOpaque(this, Mode.KERNEL);
        IF.setOpaque(this, false);
        IN_SERVICE.setOpaque(this, v);
        final InterruptHandler handler = machine.interrupts().handler(v);
        final long start = System.nanoTime();
        try {
            handler.handle(new Interrupt(id, vector, frame, drained));
        } catch (Throwable t) {
            oops(vector, "handler threw", t, drained);
            machine.handlerFailed(this);
        }
        handlerNanos.add(System.nanoTime() - start);
        received.increment();
        payloads.add(drained.size());
        // EOI and return from interrupt: restore the frame exactly, whatever the handler did.
        IN_SERVICE.setOpaque(this, -1);
        MODE.setOpaque(this, frame.previousMode());
        IF.setOpaque(this, frame.previousInterruptsEnabled());
    }

    /** Pending interrupts left on a core that will run no more (shutdown). */
    List<UndeliveredInterrupt> leftovers() {
        return apic.takeAll();
    }

    private void oops(final Vector vector, final String what, final Throwable error, final List<Object> lost) {
        oopses.increment();
        machine.recordOops(new Oops(id, vector, what, error, lost, System.nanoTime()));
    }

    private void irqOff() {
        if (interruptsEnabled) {
            IRQ_OFF_SINCE.setOpaque(this, System.nanoTime());
            IF.setOpaque(this, false);
        }
    }

    private void irqOn() {
        if (!interruptsEnabled) {
            final long now = System.nanoTime();
            IF.setOpaque(this, true);
            IRQ_ON_AT.setOpaque(this, now);
            maxIrqOffNanos.max(now - irqOffSince);
            IRQ_OFF_SINCE.setOpaque(this, 0L);
        }
    }

    private GeneralProtectionException gp(final long at, final String why) {
        exceptions.increment();
        return new GeneralProtectionException(id, at, why);
    }

    // =====================================================================================
    // The interpreter
    // =====================================================================================

    private ProgramResult interpret(final Program program, final Mode runMode, final AddressTranslation translation) {
        final Mode savedMode = mode;
        final boolean savedIf = interruptsEnabled;
        final long receivedBefore = received.get();
        final long[] r = new long[Program.REGISTERS];
        final Memory memory = machine.memory();
        long retired = 0;
        long resolved = 0;
        int pc = 0;
        MODE.setOpaque(this, runMode);
        try {
            while (pc < program.length()) {
                EPC.setOpaque(this, (long) pc);
                if (interruptsEnabled && anyPending()) {
                    deliverPending(pc); // precise: the instruction at pc has not started
                }
                final Instruction ins = program.at(pc);
                try {
                    pc = step(ins, pc, r, memory, translation);
                    retired++;
                } catch (CpuException fault) {
                    if (fault instanceof GeneralProtectionException == false) {
                        exceptions.increment(); // #GP was counted where it was raised
                    }
                    final ExceptionHandler.Action action = handleException(fault);
                    switch (action) {
                        case RETRY -> resolved++;
                        case SKIP -> {
                            resolved++;
                            pc++;
                        }
                        default -> throw fault;
                    }
                }
            }
            return new ProgramResult(r.clone(), retired, received.get() - receivedBefore, resolved);
        } finally {
            // Like a process exit: the program's privilege and interrupt flag do not outlive it.
            MODE.setOpaque(this, savedMode);
            if (savedIf) {
                irqOn();
            } else {
                irqOff();
            }
        }
    }

    private ExceptionHandler.Action handleException(final CpuException fault) {
        final Mode before = mode;
        MODE.setOpaque(this, Mode.KERNEL);
        try {
            final ExceptionHandler.Action a = machine.interrupts().exceptionHandler(fault.vector()).handle(fault);
            return a == null ? ExceptionHandler.Action.KILL : a;
        } catch (Throwable t) {
            oops(fault.vector(), "exception handler threw", t, List.of());
            return ExceptionHandler.Action.KILL;
        } finally {
            MODE.setOpaque(this, before);
        }
    }

    private int step(final Instruction ins, final int pc, final long[] r, final Memory memory,
                     final AddressTranslation translation) {
        if (ins.op().privileged() && mode == Mode.USER) {
            throw gp(pc, ins + " is privileged");
        }
        switch (ins.op()) {
            case NOP -> { }
            case SET -> r[ins.a()] = ins.imm();
            case ADD -> r[ins.a()] = r[ins.b()] + r[ins.c()];
            case ADDI -> r[ins.a()] += ins.imm();
            case MULI -> r[ins.a()] *= ins.imm();
            case COMPUTE -> {
                long x = sink;
                for (long i = 0; i < ins.imm(); i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
                sink = x;
            }
            case LOAD -> r[ins.a()] = memory.load(physical(translation, pc, ins.imm(), false));
            case STORE -> memory.store(physical(translation, pc, ins.imm(), true), r[ins.a()]);
            case LOAD_ACQUIRE -> r[ins.a()] = memory.loadAcquire(physical(translation, pc, ins.imm(), false));
            case STORE_RELEASE -> memory.storeRelease(physical(translation, pc, ins.imm(), true), r[ins.a()]);
            case FENCE -> VarHandle.fullFence();
            case BNEZ -> {
                if (r[ins.a()] != 0) {
                    return ins.b();
                }
            }
            case CLI -> irqOff();
            case STI -> irqOn(); // pending interrupts are taken at the next boundary
            case SEND_IPI -> machine.interrupts().send(ins.a(), Vector.of(ins.b()), r[ins.c()]);
            case HLT -> halt(pc);
            default -> throw new IllegalStateException("unknown opcode " + ins.op());
        }
        return pc + 1;
    }

    private long physical(final AddressTranslation translation, final int pc, final long address, final boolean write) {
        return translation == null ? address : translation.translate(id, pc, address, write);
    }

    private void halt(final int pc) {
        idle(false);
        if (stopRequested && !(interruptsEnabled && anyPending())) {
            throw new IllegalStateException("core " + id + " was halted at epc " + pc
                + (interruptsEnabled ? "" : " with interrupts disabled") + " when the machine shut down");
        }
    }

    // =====================================================================================

    /** A queued task with its future; completing the future publishes the task's writes. */
    private final class Task<T> implements Runnable {
        private final Callable<T> body;
        private final CompletableFuture<T> future;

        Task(final Callable<T> body, final CompletableFuture<T> future) {
            this.body = body;
            this.future = future;
        }

        @Override
        public void run() {
            T result = null;
            Throwable failure = null;
            try {
                result = body.call();
            } catch (Throwable t) {
                failure = t;
            }
            afterTask(); // oopses are recorded before anyone waiting on the future wakes
            if (failure == null) {
                future.complete(result);
            } else {
                future.completeExceptionally(failure);
            }
        }

        void reject(final RuntimeException why) {
            future.completeExceptionally(why);
        }
    }

    /** Fails every task still queued (the core will never run them); returns how many. */
    int rejectQueued(final RuntimeException why) {
        int n = 0;
        Runnable r;
        while ((r = runQueue.poll()) != null) {
            ((Task<?>) r).reject(why);
            n++;
        }
        return n;
    }
}
