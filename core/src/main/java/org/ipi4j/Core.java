package org.ipi4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

import org.ipi4j.apic.CpuContext;
import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.IdleLoop;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.apic.LocalApic;
import org.ipi4j.apic.Vcpu;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.idle.Timeline;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Cpu;
import org.ipi4j.isa.Interpreter;
import org.ipi4j.isa.Program;
import org.ipi4j.isa.ProgramResult;
import org.ipi4j.observability.CoreStats;
import org.ipi4j.observability.Counter;
import org.jctools.queues.MpmcUnboundedXaddArrayQueue;

/**
 * One emulated core: a platform thread, pinned to a host CPU where possible, that runs Java
 * tasks and {@link Program}s and takes interrupts at instruction boundaries.
 *
 * <h2>Where interrupts are taken</h2>
 * Only at an instruction boundary with interrupts enabled: before each instruction of a
 * program, at every {@link #checkpoint()} a Java task calls, between tasks, and when the core
 * wakes from idle. Both paths use the same entry (see {@link CpuContext}): save a
 * {@link TrapFrame}, enter {@link Mode#KERNEL} with interrupts disabled, run the handler, end of
 * interrupt, restore the frame exactly. The highest pending vector is taken first.
 *
 * <h2>Thread-safety</h2>
 * The methods that act on the core itself ({@link #checkpoint()}, {@link #disableInterrupts()},
 * {@link #restoreInterrupts(boolean)}, {@link #enableInterrupts()},
 * {@link #disablePreemption()}, {@link #enablePreemption()}, {@link #waitUntil}) may only be
 * called from this core's own thread and throw {@link IllegalStateException} otherwise.
 * {@link #submit(Runnable)}, {@link #execute(Program, Mode)}, {@link #wake()} and the observers
 * ({@link #state()}, {@link #mode()}, {@link #epc()}, {@link #stats()}, ...) may be called from
 * any thread; observers return a recent value, not a locked snapshot.
 *
 * <h2>Happens-before</h2>
 * Everything a thread did before {@code submit} happens-before the task runs; everything the
 * task did happens-before the returned future completes.
 */
public final class Core {
    private static final VarHandle PREEMPT_DEPTH;

    static {
        try {
            PREEMPT_DEPTH = MethodHandles.lookup().findVarHandle(Core.class, "preemptDepth", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

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
        HALTED,
        /** Descheduled by the host ({@link Core#preempt}): stopped at a boundary, taking no interrupts. */
        PREEMPTED
    }

    private static final State[] STATES = State.values(); // indexed by IdleLoop's state constants

    /** What this core needs from its machine, and no more: the core never sees the machine. */
    private final CoreHost host;
    private final int id;
    private final Pinning pinning;
    private final InterruptController controller;
    private final LocalApic apic;
    private final IdleLoop idle;
    private final CpuContext cpu;
    private final Interpreter interpreter;
    /** Null unless a test injects faults. */
    private final FaultInjector faults;
    /** Preemption by the host, and the PV flush word. */
    private final Vcpu vcpu;
    private final Timeline timeline;
    /** What a boundary costs: chosen by the machine, so that the boundary tests no flag. */
    private final Runnable boundaryCost;
    private final Runnable pvFlush = this::runPvFlush;
    /**
     * Tasks submitted to this core; an XADD queue, whose offer is the RMW the idle re-check pairs
     * with. Multi-consumer so that shutdown can fail the tasks of a core that is stuck: each task
     * is taken once, by the core (which runs it) or by shutdown (which fails it).
     */
    private final MpmcUnboundedXaddArrayQueue<Runnable> runQueue = new MpmcUnboundedXaddArrayQueue<>(64);
    private volatile boolean stopRequested;

    // ---- owned by the core thread ---------------------------------------------------------
    /** Written by the owner with opaque stores, read by other threads with opaque loads (preemptionDisabled). */
    private int preemptDepth;
    private long checkpoints;
    private final Counter exceptions = new Counter();
    private final Counter oopses = new Counter();
    private final Counter tasks = new Counter();
    private final BooleanSupplier runLoopWork = () -> hasWork(true);
    private final BooleanSupplier haltWork = () -> hasWork(false);
    /** What the innermost {@link #waitUntil} waits for; read by {@link #waitWork}. */
    private BooleanSupplier waitCondition;
    private final BooleanSupplier waitWork = this::waitOver;

    private volatile Thread thread;
    private volatile int hostCpu = -1;

    Core(final int id, final Pinning pinning, final InterruptController controller, final CoreHost host) {
        this.host = host;
        this.id = id;
        this.pinning = pinning;
        this.controller = controller;
        this.apic = controller.apic(id);
        this.idle = controller.idle(id);
        this.cpu = controller.context(id);
        this.faults = controller.faults();
        this.vcpu = controller.vcpu(id);
        this.timeline = host.timeline();
        this.boundaryCost = host.boundaryCost();
        this.interpreter = new Interpreter(new ProgramCpu(), host.memory());
    }

    // =====================================================================================
    // Identity and observation (any thread)
    // =====================================================================================

    /** {@return the core running the calling thread, or null if the caller is not a core} */
    public static Core current() {
        if (Thread.currentThread() instanceof CoreThread t) {
            return t.core;
        }
        // A thread made by a user's ThreadFactory sets both fields itself before it runs as a core,
        // so it always sees its own writes; any other thread reading a stale false is not a core.
        return factoryThreads ? FACTORY_THREAD_CORE.get() : null;
    }

    /** The core of a thread made by a {@link Machine.Builder#threadFactory}; unused otherwise. */
    private static final ThreadLocal<Core> FACTORY_THREAD_CORE = new ThreadLocal<>();
    /** True once any core ran on a factory-made thread: other threads skip the ThreadLocal until then. */
    private static boolean factoryThreads;

    /** {@return this core's id, 0 to {@code machine.coreCount() - 1}} */
    public int id() {
        return id;
    }

    /** {@return host CPU this core's thread is pinned to, or -1 if it runs unpinned} */
    public int hostCpu() {
        return hostCpu;
    }

    /** {@return what the core is doing now} */
    public State state() {
        return vcpu.isPreempted() ? State.PREEMPTED : STATES[idle.state()];
    }

    // =====================================================================================
    // Preemption by the host (a vCPU descheduled): any thread
    // =====================================================================================

    /**
     * Deschedules this core for {@code duration}, as a host deschedules a vCPU: it stops at its
     * next instruction boundary (an idle core is woken to stop), stays stopped for
     * {@code duration} from then (the time slice starts when it stops), takes no interrupts while
     * stopped, and runs again when the time is up or on {@link #resume()}. A shootdown that finds
     * it stopped marks a TLB flush pending instead of interrupting it (with
     * {@link Paravirt#TLB_FLUSH}); the core flushes when it resumes, before it runs anything.
     * Shutdown ends every preemption. A later call replaces a request not yet taken; while the
     * core is stopped, a call for a different duration starts a new slice from then, and one for
     * the same duration leaves the current slice as it is.
     *
     * @param duration how long, positive
     * @throws IllegalArgumentException if {@code duration} is not positive
     */
    public void preempt(final Duration duration) {
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, not " + duration);
        }
        vcpu.preempt(Math.min(Deadlines.saturatedNanos(duration), Long.MAX_VALUE / 4)); // any length: no overflow
        endIfStopping();
    }

    /**
     * A shutdown that already asked this core to stop ends every preemption, those asked for after
     * it too: otherwise the draining core would stop at its next boundary for good. Dekker with
     * {@link #requestStop}: we store the request (volatile), then read stopRequested; it stores
     * stopRequested, then clears the request. One of us sees the other.
     */
    private void endIfStopping() {
        if (stopRequested) {
            vcpu.resume();
        }
    }

    /** Deschedules this core until {@link #resume()}; see {@link #preempt(Duration)}. */
    public void preemptUntilResumed() {
        vcpu.preempt(Vcpu.UNTIL_RESUMED);
        endIfStopping();
    }

    /** Ends a preemption of this core (or one asked for and not yet taken). */
    public void resume() {
        vcpu.resume();
    }

    /** {@return true while this core is stopped by the host} */
    public boolean isPreempted() {
        return vcpu.isPreempted();
    }

    /** {@return this core's virtual-CPU state: preemption, PV flush, steal time} */
    public Vcpu vcpu() {
        return vcpu;
    }

    /** {@return current privilege level} */
    public Mode mode() {
        return cpu.mode();
    }

    /** {@return current interrupt flag} */
    public boolean interruptsEnabled() {
        return cpu.interruptsEnabled();
    }

    /** {@return true while preemption is disabled on this core (a recent value from other threads)} */
    public boolean preemptionDisabled() {
        // Opaque: a coherent, recent value from any thread; no order with anything else is implied.
        return (int) PREEMPT_DEPTH.getOpaque(this) > 0;
    }

    /**
     * Current EPC: the next instruction of the running program, the checkpoint count of the
     * running Java task, or -1 when idle.
     *
     * @return the index of the next instruction, or -1 when no program runs
     */
    public long epc() {
        return cpu.epc();
    }

    /**
     * The machine's clock ({@link Machine#timeline()}: {@link System#nanoTime()} on the host) when
     * code last re-enabled interrupts on this core (0 if never):
     * lets a measurement split a delivery delay into "interrupts were off" and the rest.
     *
     * @return the clock reading of the last re-enable
     */
    public long lastInterruptsEnabledAt() {
        return cpu.lastInterruptsEnabledAt();
    }

    /** {@return vector whose handler is running now, or -1} */
    public int inServiceVector() {
        return cpu.inServiceVector();
    }

    /** {@return true if any vector is pending in this core's IRR} */
    public boolean hasPendingInterrupts() {
        return apic.anyPending();
    }

    /** {@return one line saying what this core is doing, for watchdog reports} */
    public String describe() {
        final StringBuilder sb = new StringBuilder()
            .append("core ").append(id)
            .append(" [").append(state()).append(", ").append(mode())
            .append(", interrupts ").append(interruptsEnabled() ? "on" : "off");
        final long since = cpu.interruptsOffSince();
        if (!interruptsEnabled() && since != 0) {
            sb.append(" for ").append((timeline.nanoTime() - since) / 1000).append("us");
        }
        final int vec = inServiceVector();
        if (vec >= 0) {
            sb.append(", in handler for ").append(Vector.of(vec));
        }
        sb.append(", epc ").append(epc()).append(", host cpu ").append(hostCpu).append(']');
        return sb.toString();
    }

    /** {@return the core thread's id (for CPU-time accounting with {@code ThreadMXBean}), or -1 before start} */
    public long threadId() {
        final Thread t = thread;
        return t == null ? -1 : t.getId();
    }

    /** {@return the core thread's current stack, or an empty array if it is not running} */
    public StackTraceElement[] stackTrace() {
        final Thread t = thread;
        return t == null ? new StackTraceElement[0] : t.getStackTrace();
    }

    /** {@return a snapshot of this core's counters} */
    public CoreStats stats() {
        return new CoreStats(id, hostCpu, cpu.sent(), cpu.received(), cpu.payloadsReceived(), apic.coalesced(),
            idle.unparkWakeups(), idle.elidedWakeups(), cpu.handlerNanos(), cpu.maxInterruptsOffNanos(),
            exceptions.get(), oopses.get() + cpu.handlerFailures(), tasks.get());
    }

    // =====================================================================================
    // Work submission (any thread)
    // =====================================================================================

    /**
     * Queues {@code task} to run on this core in {@link Mode#KERNEL} and wakes the core with a
     * {@link Vector#RESCHEDULE} IPI if it is parked (elided if it is running or polling).
     * Tasks on one core run one at a time, in submission order per submitter.
     *
     * @param task the task to run
     * @return a read-only future that completes when the task has run, or fails if it threw or never ran
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closing
     */
    public CompletableFuture<Void> submit(final Runnable task) {
        Objects.requireNonNull(task, "task");
        return submit(() -> {
            task.run();
            return null;
        });
    }

    /**
     * Like {@link #submit(Runnable)}, completing with the task's result. The future is a
     * {@link ReadOnlyFuture}: only the core completes it.
     *
     * @param task the task to run
     * @param <T> the task's result type
     * @return a read-only future of the task's result
     */
    public <T> CompletableFuture<T> submit(final Callable<T> task) {
        Objects.requireNonNull(task, "task");
        final Task<T> t = new Task<>(task);
        controller.post(id, runQueue, t);
        return t;
    }

    /**
     * Runs {@code program} on this core in {@code mode}, with physical addresses.
     *
     * @param program the program to run
     * @param mode the privilege level to run in
     * @return a read-only future of the program's result
     */
    public CompletableFuture<ProgramResult> execute(final Program program, final Mode mode) {
        return execute(program, mode, null);
    }

    /**
     * Runs {@code program} on this core in {@code mode}; loads and stores go through
     * {@code translation} (null for physical addresses). The future completes with the final
     * registers, or exceptionally with the {@link CpuException} that killed the program.
     *
     * @param program the program to run
     * @param mode the privilege level to run in
     * @param translation maps virtual to physical addresses, or null for physical addresses
     * @return a read-only future of the program's result
     */
    public CompletableFuture<ProgramResult> execute(final Program program, final Mode mode,
                                                    final AddressTranslation translation) {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(mode, "mode");
        return submit(() -> interpreter.run(program, mode, translation));
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
     * (a few loads). Preemption being disabled does not block interrupts.
     */
    public void checkpoint() {
        checkOwner("checkpoint()");
        boundaryCost.run(); // a boundary lets virtual time pass: a looping task lets the others run
        boundaryFault();
        final long n = ++checkpoints;
        cpu.epc(n);
        if (cpu.deliverable()) {
            cpu.deliverPending(n);
        }
    }

    /**
     * Disables interrupt delivery on this core and returns the previous flag, like
     * {@code local_irq_save}. Nesting-safe: pass the result to {@link #restoreInterrupts}.
     *
     * @return the previous interrupt flag, for {@link #restoreInterrupts(boolean)}
     * @throws GeneralProtectionException in user mode
     */
    public boolean disableInterrupts() {
        checkOwner("disableInterrupts()");
        if (cpu.mode() == Mode.USER) {
            throw gp(cpu.epc(), "disableInterrupts() in user mode");
        }
        final boolean was = cpu.interruptsEnabled();
        cpu.irqOff();
        return was;
    }

    /**
     * Restores the flag {@link #disableInterrupts()} returned, like {@code local_irq_restore};
     * re-enabling takes what became pending at once.
     *
     * @param enabled true to turn it on
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
        if (cpu.mode() == Mode.USER) {
            throw gp(cpu.epc(), "enableInterrupts() in user mode");
        }
        cpu.irqOn();
        cpu.deliverPending(cpu.epc());
    }

    /**
     * Disables preemption (nesting counter, like {@code preempt_disable}): the scheduler will
     * not switch tasks on this core, but interrupts are still taken.
     */
    public void disablePreemption() {
        checkOwner("disablePreemption()");
        PREEMPT_DEPTH.setOpaque(this, preemptDepth + 1);
    }

    /** Undoes one {@link #disablePreemption()}. */
    public void enablePreemption() {
        checkOwner("enablePreemption()");
        if (preemptDepth == 0) {
            throw new IllegalStateException("enablePreemption() without disablePreemption() on core " + id);
        }
        PREEMPT_DEPTH.setOpaque(this, preemptDepth - 1);
    }

    /**
     * Waits on this core until {@code condition} holds or the machine's clock
     * ({@link Machine#timeline()}: {@link System#nanoTime()} on the host) reaches
     * {@code deadlineNanos}, taking interrupts meanwhile and waiting the way the machine's
     * {@link IdlePolicy} says: a polling wait notices by itself; a parked wait is woken by an IPI
     * or by {@link #wake()}, which whoever makes the condition true must call after making it
     * true with a volatile write. Owner thread only; the condition must be cheap, side-effect free
     * and read what it waits for with volatile loads (it is the re-check of the idle handshake).
     *
     * @param condition what to wait for: true ends the wait; evaluated on this core, after every
     *                  wake-up and interrupt, with no lock held
     * @param deadlineNanos the deadline on the machine's clock
     * @return true if the condition held, false at the deadline
     */
    public boolean waitUntil(final BooleanSupplier condition, final long deadlineNanos) {
        Objects.requireNonNull(condition, "condition");
        checkOwner("waitUntil()");
        final BooleanSupplier outer = waitCondition; // a handler may wait too: nest, do not allocate
        waitCondition = condition;
        try {
            for (;;) {
                if (condition.getAsBoolean()) {
                    return true;
                }
                boundaryFault();
                if (cpu.deliverable()) {
                    cpu.deliverPending(cpu.epc());
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

    /**
     * Unparks this core if it is parked (idle, or in {@link #waitUntil}); makes no system call
     * otherwise. Call it after making a {@code waitUntil} condition true. Any thread.
     */
    public void wake() {
        idle.wake();
    }

    // =====================================================================================
    // The run loop
    // =====================================================================================

    /** This core's thread, from {@code factory} or (null) the default daemon platform thread named {@code name}. */
    Thread newThread(final String name, final Runnable onStarted, final ThreadFactory factory) {
        final Thread t;
        if (factory == null) {
            t = new CoreThread(this, name, onStarted);
            t.setDaemon(true); // a stuck core must not keep the JVM alive; shutdown reports it
        } else {
            t = factory.newThread(() -> {
                FACTORY_THREAD_CORE.set(this);
                factoryThreads = true;
                try {
                    runOnThread(onStarted);
                } finally {
                    FACTORY_THREAD_CORE.remove();
                }
            });
            if (t == null || t.getState() != Thread.State.NEW) {
                throw new IllegalStateException("threadFactory must return a new, unstarted thread for core " + id
                    + ", returned " + (t == null ? "null" : t + " in state " + t.getState()));
            }
        }
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
        final Pinner.Pin pin = pinning == Pinning.BEST_EFFORT ? pin() : null;
        idle.bind(Thread.currentThread());
        vcpu.bind(Thread.currentThread());
        timeline.attach(id); // a simulation schedules this thread from here on
        onStarted.run();
        try {
            runLoop();
        } finally {
            timeline.detach();
            idle.halted();
            if (pin != null) {
                pin.release();
            }
        }
    }

    /** Best effort: a pinner that fails leaves the core unpinned, never dead. */
    private Pinner.Pin pin() {
        final Pinner pinner = host.pinner();
        if (pinner == null) {
            return null;
        }
        try {
            final Pinner.Pin p = pinner.pinCurrentThread();
            if (p != null) {
                hostCpu = p.hostCpu();
            }
            return p;
        } catch (RuntimeException | LinkageError noNativeSupport) {
            return null;
        }
    }

    private void runLoop() {
        for (;;) {
            cpu.epc(-1L);
            boundaryFault();
            if (cpu.deliverable()) {
                cpu.deliverPending(-1);
            }
            final Runnable task = runQueue.poll();
            if (task != null) {
                checkpoints = 0;
                task.run(); // Task.run calls afterTask() before completing its future
            } else if (stopRequested) {
                // Closed: no new sends can arrive (shutdown waited for senders in flight).
                if (!apic.anyPending() && runQueue.isEmpty()) {
                    return;
                }
            } else {
                idle.idleUntil(runLoopWork, IdleLoop.NO_DEADLINE);
            }
        }
    }

    /** Repairs what a task must not leave behind; runs before the task's future completes. */
    private void afterTask() {
        tasks.increment();
        if (!cpu.interruptsEnabled()) {
            oops("task returned with interrupts disabled; re-enabled");
            cpu.irqOn();
        }
        if (preemptDepth != 0) {
            oops("task returned with preemption disabled; re-enabled");
            PREEMPT_DEPTH.setOpaque(this, 0);
        }
        if (cpu.mode() != Mode.KERNEL) {
            cpu.mode(Mode.KERNEL);
        }
    }

    /**
     * The work an idle core waits for. Every read is volatile: this is the re-check after PARKED
     * (partners: the sender's IRR raise, {@link InterruptController#post}'s queue offer, and
     * shutdown's {@code stopRequested} store, each followed by a read of the idle state).
     */
    private boolean hasWork(final boolean runnable) {
        return stopRequested || cpu.deliverable() || (runnable && !runQueue.isEmpty()) || vcpu.requested();
    }

    /**
     * An instruction boundary's host side: an injected fault (a freeze) if a test installed one,
     * and a preemption if the host asked for one (the core stops here; on resume it runs a pending
     * PV flush first).
     */
    private void boundaryFault() {
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

    /** A shootdown left a TLB flush for our resume: run the machine's PV flush hooks (the MMU's full flush). */
    private void runPvFlush() {
        host.pvFlush(id);
    }

    /** The innermost wait's condition holds, or an interrupt can be taken, or the host preempts us. */
    private boolean waitOver() {
        return waitCondition.getAsBoolean() || cpu.deliverable() || vcpu.requested();
    }

    /** Asks the core to stop once it has drained its work, and wakes it whatever it is doing. */
    void requestStop() {
        stopRequested = true; // partner: endIfStopping's read, after a preemption request's store
        vcpu.resume(); // a preempted core must run to drain and stop
        idle.wakeUnconditionally();
    }

    boolean join(final long millis) throws InterruptedException {
        final Thread t = thread;
        if (t == null) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    /** Pending interrupts left on a core that will run no more (shutdown). */
    List<UndeliveredInterrupt> leftovers() {
        return apic.takeAll();
    }

    private void oops(final String what) {
        oopses.increment();
        host.oops(id, null, what, null);
    }

    private GeneralProtectionException gp(final long at, final String why) {
        exceptions.increment();
        return new GeneralProtectionException(id, at, why);
    }

    private void halt(final long pc) {
        idle.idleUntil(haltWork, IdleLoop.NO_DEADLINE);
        if (stopRequested && !cpu.deliverable()) {
            throw new IllegalStateException("core " + id + " was halted at epc " + pc
                + (cpu.interruptsEnabled() ? "" : " with interrupts disabled") + " when the machine shut down");
        }
    }

    /** This core as the interpreter sees it: the narrow {@link Cpu} interface. */
    private final class ProgramCpu implements Cpu {
        @Override
        public int id() {
            return id;
        }

        @Override
        public Mode mode() {
            return cpu.mode();
        }

        @Override
        public void mode(final Mode mode) {
            cpu.mode(mode);
        }

        @Override
        public boolean interruptsEnabled() {
            return cpu.interruptsEnabled();
        }

        @Override
        public void boundary(final long pc) {
            cpu.epc(pc);
            boundaryCost.run(); // one instruction's virtual time
            boundaryFault();
            if (cpu.deliverable()) {
                cpu.deliverPending(pc); // precise: the instruction at pc has not started
            }
        }

        @Override
        public void disableInterrupts() {
            cpu.irqOff();
        }

        @Override
        public void enableInterrupts() {
            cpu.irqOn();
        }

        @Override
        public void sendIpi(final int target, final int vector, final long payload) {
            controller.send(target, Vector.of(vector), payload);
        }

        @Override
        public void halt(final long pc) {
            Core.this.halt(pc);
        }

        @Override
        public CpuException generalProtection(final long pc, final String why) {
            return gp(pc, why);
        }

        @Override
        public ExceptionHandler.Action exception(final CpuException fault) {
            if (!(fault instanceof GeneralProtectionException)) {
                exceptions.increment(); // #GP was counted where it was raised
            }
            final Mode before = cpu.mode();
            cpu.mode(Mode.KERNEL);
            try {
                final ExceptionHandler.Action a = controller.exceptionHandler(fault.vector()).handle(fault);
                return a == null ? ExceptionHandler.Action.KILL : a;
            } catch (Throwable t) {
                oopses.increment();
                host.oops(id, fault.vector(), "exception handler threw", t);
                return ExceptionHandler.Action.KILL;
            } finally {
                cpu.mode(before);
            }
        }

        @Override
        public long interruptsTaken() {
            return cpu.received();
        }
    }

    // =====================================================================================

    /** A queued task, and its own read-only future; completing it publishes the task's writes. */
    private final class Task<T> extends ReadOnlyFuture<T> implements Runnable {
        private final Callable<T> body;

        Task(final Callable<T> body) {
            this.body = body;
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
                succeed(result);
            } else {
                fail(failure);
            }
        }

        void reject(final RuntimeException why) {
            fail(why);
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
