package org.ipi4j;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

import org.ipi4j.apic.InterruptController;
import org.ipi4j.apic.Vcpu;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Interpreter;
import org.ipi4j.isa.Program;
import org.ipi4j.isa.ProgramResult;
import org.ipi4j.observability.CoreStats;

/**
 * One emulated core: a platform thread, pinned to a host CPU where possible, that runs Java
 * tasks and {@link Program}s and takes interrupts at instruction boundaries.
 *
 * <h2>Where interrupts are taken</h2>
 * Only at an instruction boundary with interrupts enabled: before each instruction of a
 * program, at every {@link #checkpoint()} a Java task calls, between tasks, and when the core
 * wakes from idle. Both paths use the same entry ({@link org.ipi4j.apic.CpuPort}'s receiving half):
 * save a {@link TrapFrame}, enter {@link Mode#KERNEL} with interrupts disabled, run the handler,
 * end of interrupt, restore the frame exactly. The highest pending vector is taken first.
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
 *
 * <p>This class is the core's face; what runs on its thread (the run loop, the boundary, the
 * task queue, the stop) is its package-private runtime, to which the owner-only methods delegate.
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
        HALTED,
        /** Descheduled by the host ({@link Core#preempt}): stopped at a boundary, taking no interrupts. */
        PREEMPTED
    }

    private static final State[] STATES = State.values(); // indexed by IdleLoop's state constants

    private final int id;
    private final CoreRuntime runtime; // what runs on the core's thread; the observers read its parts
    private final Interpreter interpreter;

    /** Core {@code id} of the machine that {@code host} stands for; its parts come from {@code controller}. */
    Core(final int id, final Pinning pinning, final InterruptController controller, final CoreHost host) {
        this.id = id;
        this.runtime = new CoreRuntime(id, pinning, controller, host);
        this.interpreter = new Interpreter(new ProgramCpu(runtime), host.memory());
    }

    /** {@return the core running the calling thread, or null if the caller is not a core} */
    public static Core current() {
        return THREADS.current();
    }

    /** Which core a thread was made for, also a thread from a {@link Machine.Builder#threadFactory}. */
    private static final ThreadOwner<Core> THREADS = new ThreadOwner<>();

    /** {@return this core's id, 0 to {@code machine.coreCount() - 1}} */
    public int id() {
        return id;
    }

    /** {@return host CPU this core's thread is pinned to, or -1 if it runs unpinned} */
    public int hostCpu() {
        return runtime.thread.hostCpu();
    }

    /** {@return what the core is doing now} */
    public State state() {
        return runtime.vcpu.isPreempted() ? State.PREEMPTED : STATES[runtime.idle.state()];
    }

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
        // A period's check and clamp: positive, and any length gives a slice end that cannot overflow.
        runtime.preempt(Deadlines.timerNanos(duration, "duration", false));
    }

    /** Deschedules this core until {@link #resume()}; see {@link #preempt(Duration)}. */
    public void preemptUntilResumed() {
        runtime.preempt(Vcpu.UNTIL_RESUMED);
    }

    /** Ends a preemption of this core (or one asked for and not yet taken). */
    public void resume() {
        runtime.vcpu.resume();
    }

    /** {@return true while this core is stopped by the host} */
    public boolean isPreempted() {
        return runtime.vcpu.isPreempted();
    }

    /** {@return this core's virtual-CPU state: preemption, PV flush, steal time} */
    public Vcpu vcpu() {
        return runtime.vcpu;
    }

    /** {@return current privilege level} */
    public Mode mode() {
        return runtime.cpu.mode();
    }

    /** {@return current interrupt flag} */
    public boolean interruptsEnabled() {
        return runtime.cpu.interruptsEnabled();
    }

    /** {@return true while preemption is disabled on this core (a recent value from other threads)} */
    public boolean preemptionDisabled() {
        return runtime.preemptionDisabled();
    }

    /**
     * Current EPC, the number {@link #describe()} (and so a stuck core's shutdown report) prints as
     * {@code epc}: the index of the running program's next instruction; the number of
     * {@link #checkpoint()}s the running Java task has passed (0 before its first); -1 when the core
     * runs neither (idle, or between two tasks). A handler does not change it: while one runs, this
     * is the EPC of the code it interrupted, as its {@link org.ipi4j.interrupts.TrapFrame#epc()} says.
     *
     * @return the program's next instruction, the task's checkpoint count, or -1 when neither runs
     */
    public long epc() {
        return runtime.cpu.epc();
    }

    /**
     * The machine's clock ({@link Machine#timeline()}: {@link System#nanoTime()} on the host) when
     * code last re-enabled interrupts on this core while an interrupt was waiting (0 if never), to
     * split a delivery delay; a re-enable with nothing pending reads no clock, unless {@link Machine.Builder#timeHandlers}.
     *
     * @return the clock reading of the last re-enable
     */
    public long lastInterruptsEnabledAt() {
        return runtime.cpu.lastInterruptsEnabledAt();
    }

    /** {@return vector whose handler is running now, or -1} */
    public int inServiceVector() {
        return runtime.cpu.inServiceVector();
    }

    /** {@return true if any vector is pending in this core's IRR} */
    public boolean hasPendingInterrupts() {
        return runtime.apic.anyPending();
    }

    /** {@return one line saying what this core is doing, for watchdog reports} */
    public String describe() {
        final StringBuilder sb = new StringBuilder()
            .append("core ").append(id)
            .append(" [").append(state()).append(", ").append(mode())
            .append(", interrupts ").append(interruptsEnabled() ? "on" : "off");
        final long since = runtime.cpu.interruptsOffSince();
        if (!interruptsEnabled() && since != 0) {
            sb.append(" for ").append((runtime.timeline.nanoTime() - since) / 1000).append("us");
        }
        final int vec = inServiceVector();
        if (vec >= 0) {
            sb.append(", in handler for ").append(Vector.of(vec));
        }
        sb.append(", epc ").append(epc()).append(", host cpu ").append(hostCpu()).append(']');
        return sb.toString();
    }

    /** {@return the core thread's id (for CPU-time accounting with {@code ThreadMXBean}), or -1 before start} */
    public long threadId() {
        final Thread t = runtime.thread.get();
        return t == null ? -1 : t.getId();
    }

    /** {@return the core thread's current stack, or an empty array if it is not running} */
    public StackTraceElement[] stackTrace() {
        final Thread t = runtime.thread.get();
        return t == null ? new StackTraceElement[0] : t.getStackTrace();
    }

    /** {@return a snapshot of this core's counters} */
    public CoreStats stats() {
        return runtime.stats();
    }

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
        return submit(Executors.callable(task, (Void) null));
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
        return runtime.submit(task);
    }

    /**
     * Runs {@code task} on this core once {@code delay} has passed on the machine's clock, between
     * tasks and like one (see {@link CoreTimer} for what it guarantees); a parked core wakes for it.
     *
     * @param delay how long from now, not negative
     * @param task the task
     * @return the timer: its future, and {@link CoreTimer#cancel()}
     * @throws org.ipi4j.interrupts.MachineClosedException if the machine is closing
     */
    public CoreTimer schedule(final Duration delay, final Runnable task) {
        return runtime.schedule(Objects.requireNonNull(task, "task"), Deadlines.timerNanos(delay, "delay", true), 0);
    }

    /**
     * Runs {@code task} on this core after {@code initialDelay}, then every {@code period} at a fixed
     * rate (a run that falls behind skips the periods it missed) until cancelled, until it throws,
     * or until shutdown; see {@link #schedule}.
     *
     * @param initialDelay how long until the first run, not negative
     * @param period how long between runs, positive
     * @param task the task
     * @return the timer
     */
    public CoreTimer schedulePeriodic(final Duration initialDelay, final Duration period, final Runnable task) {
        final long first = Deadlines.timerNanos(initialDelay, "initialDelay", true);
        final long every = Deadlines.timerNanos(period, "period", false);
        return runtime.schedule(Objects.requireNonNull(task, "task"), first, every);
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

    /**
     * An instruction boundary for Java tasks: if interrupts are enabled and any are pending,
     * take them all (highest vector first) before returning. Cheap when nothing is pending
     * (a few loads). Preemption being disabled does not block interrupts.
     */
    public void checkpoint() {
        runtime.checkpoint();
    }

    /**
     * Disables interrupt delivery on this core and returns the previous flag, like
     * {@code local_irq_save}. Nesting-safe: pass the result to {@link #restoreInterrupts}.
     *
     * @return the previous interrupt flag, for {@link #restoreInterrupts(boolean)}
     * @throws GeneralProtectionException in user mode
     */
    public boolean disableInterrupts() {
        return runtime.disableInterrupts();
    }

    /**
     * Restores the flag {@link #disableInterrupts()} returned, like {@code local_irq_restore};
     * re-enabling takes what became pending at once.
     *
     * @param enabled true to turn it on
     */
    public void restoreInterrupts(final boolean enabled) {
        runtime.restoreInterrupts(enabled);
    }

    /** Enables interrupts and takes whatever is pending. */
    public void enableInterrupts() {
        runtime.enableInterrupts();
    }

    /**
     * Disables preemption (nesting counter, like {@code preempt_disable}): the scheduler will
     * not switch tasks on this core, but interrupts are still taken.
     */
    public void disablePreemption() {
        runtime.disablePreemption();
    }

    /** Undoes one {@link #disablePreemption()}. */
    public void enablePreemption() {
        runtime.enablePreemption();
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
        return runtime.waitUntil(condition, deadlineNanos);
    }

    /**
     * Unparks this core if it is parked (idle, or in {@link #waitUntil}); makes no system call
     * otherwise. Call it after making a {@code waitUntil} condition true. Any thread.
     */
    public void wake() {
        runtime.idle.wake();
    }

    /** {@return the runtime of this core's thread: shutdown stops, joins and drains it} */
    CoreRuntime runtime() {
        return runtime;
    }

    /** This core's thread, from {@code factory} or (null) a daemon thread named {@code name}; a core to {@link #current()}. */
    Thread newThread(final String name, final Runnable onStarted, final ThreadFactory factory) {
        return runtime.thread.make(THREADS.maker(this, name, factory), onStarted);
    }
}
