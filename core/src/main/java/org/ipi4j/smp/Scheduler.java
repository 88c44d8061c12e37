package org.ipi4j.smp;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.ReadOnlyFuture;
import org.ipi4j.interrupts.MachineClosedException;
import org.jctools.queues.MpmcUnboundedXaddArrayQueue;

/**
 * A small work-distributing scheduler over a machine's cores: per-core ready queues, placement
 * on the least-loaded core, work stealing by cores that run dry, and cooperative task switches
 * that honour {@link Core#disablePreemption()}.
 *
 * <p>A core that gets work while idle is woken by the machine's reschedule IPI; the IPI is
 * elided when the core is polling or busy (see {@link org.ipi4j.observability.CoreStats#elidedWakeups()}).
 * A running task may call {@link #preemptionPoint()}: pending interrupts are taken there in any
 * case, and if preemption is enabled the core also switches to the tasks waiting in its queue
 * before returning.
 *
 * <p>Guarantees: every task {@code submit} accepted runs exactly once (here or, stolen, on
 * another core), unless the machine shuts down before any core could run it: then it never runs
 * and its future fails with {@link MachineClosedException}. Either way its future completes (a
 * read-only future: only the scheduler completes it). A {@code submit} that throws
 * {@link MachineClosedException} queued nothing that will run. Everything the submitter did before
 * {@code submit} happens-before the task; the task's writes happen-before its future completes.
 * Thread-safe.
 */
public final class Scheduler {
    private final Machine machine;
    private final int cores;
    private final MpmcUnboundedXaddArrayQueue<Job>[] ready;
    /** Tasks queued or running per core. */
    private final AtomicIntegerArray load;
    /** 1 while a worker is queued or running on the core. */
    private final AtomicIntegerArray active;
    private final LongAdder steals = new LongAdder();
    private final LongAdder switches = new LongAdder();
    private final LongAdder placed = new LongAdder();
    /** Where the next least-loaded search starts. */
    private final AtomicInteger nextStart = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLongArray placedOn;

    @SuppressWarnings("unchecked")
    private Scheduler(final Machine machine) {
        this.machine = machine;
        this.cores = machine.coreCount();
        this.ready = new MpmcUnboundedXaddArrayQueue[cores];
        for (int i = 0; i < cores; i++) {
            ready[i] = new MpmcUnboundedXaddArrayQueue<>(64);
        }
        this.load = new AtomicIntegerArray(cores);
        this.active = new AtomicIntegerArray(cores);
        this.placedOn = new java.util.concurrent.atomic.AtomicLongArray(cores);
    }

    /**
     * {@return a scheduler over {@code machine}'s cores} Several may share a machine.
     *
     * @param machine the machine
     */
    public static Scheduler on(final Machine machine) {
        final Scheduler s = new Scheduler(Objects.requireNonNull(machine, "machine"));
        machine.onShutdown(s::failAllQueued);
        return s;
    }

    /**
     * Places {@code task} on the least-loaded core (ties broken at random).
     *
     * @param task the task to run
     * @return a read-only future that completes when the task ran, or fails if it threw or could not run
     */
    public CompletableFuture<Void> submit(final Runnable task) {
        int best = -1;
        int bestLoad = Integer.MAX_VALUE;
        // Ties go to the next core in turn: it spreads like a random start, and a simulation that
        // submits this way still replays by seed (a thread-local random generator would not).
        final int start = Math.floorMod(nextStart.getAndIncrement(), cores);
        for (int i = 0; i < cores; i++) {
            final int c = (start + i) % cores;
            final int l = load.get(c);
            if (l < bestLoad) {
                best = c;
                bestLoad = l;
            }
        }
        return submit(best, task);
    }

    /**
     * Places {@code task} on core {@code cpu}; another core may steal it if {@code cpu} is busy.
     * The returned future is read-only; it completes when the task ran, or exceptionally with
     * {@link MachineClosedException} if the machine shut down before the task could run.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param task the task to run
     * @return a read-only future that completes when the task ran, or fails if it threw or could not run
     * @throws MachineClosedException if the machine is closed: the task was not queued and will
     *                                not run
     */
    public CompletableFuture<Void> submit(final int cpu, final Runnable task) {
        Objects.requireNonNull(task, "task");
        final Core core = machine.core(cpu);
        machine.interrupts().checkOpen();
        final Job job = new Job(task);
        load.incrementAndGet(cpu);
        ready[cpu].offer(job);
        placed.increment();
        placedOn.incrementAndGet(cpu);
        try {
            ensureWorker(core);
        } catch (MachineClosedException e) {
            withdrawIfUnclaimed(job, cpu, e); // the machine closed after our check
        }
        if (machine.isClosed()) {
            // Closed while we queued: shutdown's hook may already have failed the queue before our
            // offer, and a stuck worker (active stays 1) raises nothing above.
            withdrawIfUnclaimed(job, cpu, new MachineClosedException("machine " + machine.name()
                + " is closed: the job was not queued"));
        }
        return job;
    }

    /**
     * If no worker took {@code job} yet, it never will: withdraw it and throw {@code why}. If one
     * did, the job was accepted and its future completes: return.
     */
    private void withdrawIfUnclaimed(final Job job, final int cpu, final MachineClosedException why) {
        if (job.reject(why)) {
            load.decrementAndGet(cpu);
            throw why;
        }
    }

    /**
     * A point where the calling task may be switched out: takes pending interrupts, then, unless
     * preemption is disabled on this core, runs the tasks waiting in this core's queue before
     * returning.
     *
     * @return how many tasks were switched to (0 with preemption disabled)
     * @throws IllegalStateException if not called on a core of this machine
     */
    public int preemptionPoint() {
        final Core self = machine.currentCore();
        if (self == null) {
            throw new IllegalStateException("preemptionPoint() must be called from a task on a core of " + machine.name());
        }
        self.checkpoint();
        if (self.preemptionDisabled()) {
            return 0;
        }
        int n = 0;
        Job job;
        while ((job = ready[self.id()].poll()) != null) {
            run(self.id(), job);
            n++;
        }
        switches.add(n);
        return n;
    }

    /** {@return tasks taken from another core's queue} */
    public long steals() {
        return steals.sum();
    }

    /** {@return task switches made at preemption points} */
    public long switches() {
        return switches.sum();
    }

    /** {@return tasks submitted} */
    public long placed() {
        return placed.sum();
    }

    /**
     * {@return tasks placed on {@code cpu} (before any stealing)}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public long placedOn(final int cpu) {
        return placedOn.get(machine.core(cpu).id());
    }

    /**
     * {@return tasks queued or running on {@code cpu}}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public int load(final int cpu) {
        return load.get(machine.core(cpu).id());
    }

    /**
     * Starts a worker task on {@code core} unless one is queued or running. If the core refuses it
     * (the machine is closing) or never runs it (shutdown fails the queued task), the jobs waiting
     * in the core's queue are failed, so no future is left pending.
     */
    private void ensureWorker(final Core core) {
        // Partner: the worker's active.set(0) then ready.isEmpty() in work(). The offer (an XADD)
        // came before this CAS; both sides store then load with volatile accesses, so either the
        // worker sees the job or we see active == 0 and start one.
        final int cpu = core.id();
        if (active.compareAndSet(cpu, 0, 1)) {
            final CompletableFuture<Void> worker;
            try {
                worker = core.submit(() -> work(cpu));
            } catch (MachineClosedException e) {
                active.set(cpu, 0);
                failQueued(cpu, e);
                throw e;
            }
            worker.whenComplete((ok, error) -> {
                if (error != null) { // rejected by shutdown: it will never run the queue
                    active.set(cpu, 0);
                    failQueued(cpu, error);
                }
            });
        }
    }

    /** Fails every job still waiting in {@code cpu}'s queue. */
    /**
     * At shutdown: jobs still queued behind a job that never returns (its worker is stuck) will
     * never run. Fail each; the job's own claim keeps a worker that comes back from running it.
     */
    private void failAllQueued() {
        final MachineClosedException why = new MachineClosedException("machine " + machine.name()
            + " shut down before the job ran");
        for (int cpu = 0; cpu < cores; cpu++) {
            failQueued(cpu, why);
        }
    }

    private void failQueued(final int cpu, final Throwable why) {
        Job job;
        while ((job = ready[cpu].poll()) != null) {
            if (job.reject(why)) {
                load.decrementAndGet(cpu);
            }
        }
    }

    private void work(final int cpu) {
        for (;;) {
            Job job = ready[cpu].poll();
            int owner = cpu;
            if (job == null) {
                owner = victim(cpu);
                job = owner < 0 ? null : ready[owner].poll();
                if (job != null) {
                    steals.increment();
                }
            }
            if (job != null) {
                run(owner, job);
                continue;
            }
            active.set(cpu, 0); // volatile store, then the volatile reads of isEmpty (partner: ensureWorker)
            // A submitter that saw active == 1 did not start a worker: look once more.
            if (ready[cpu].isEmpty() || !active.compareAndSet(cpu, 0, 1)) {
                return;
            }
        }
    }

    /** The other core with the most queued work, or -1. */
    private int victim(final int thief) {
        int best = -1;
        int most = 0;
        for (int c = 0; c < cores; c++) {
            if (c != thief && !ready[c].isEmpty()) {
                final int l = load.get(c);
                if (l > most) {
                    most = l;
                    best = c;
                }
            }
        }
        return best;
    }

    private void run(final int owner, final Job job) {
        if (!job.start()) {
            return; // withdrawn by its submitter or failed by shutdown: it must not run
        }
        try {
            job.task.run();
            load.decrementAndGet(owner);
            job.done(null);
        } catch (Throwable t) {
            load.decrementAndGet(owner);
            job.done(t);
        }
    }

    /** A queued task and its read-only future. Exactly one of start() and reject() succeeds. */
    private static final class Job extends ReadOnlyFuture<Void> {
        private static final int PENDING = 0;
        private static final int STARTED = 1;
        private static final int REJECTED = 2;

        final Runnable task;
        private final AtomicInteger state = new AtomicInteger(PENDING);

        Job(final Runnable task) {
            this.task = task;
        }

        boolean start() {
            return state.compareAndSet(PENDING, STARTED);
        }

        /** Fails the job if it has not started; false if it already did (then it completes normally). */
        boolean reject(final Throwable why) {
            if (state.compareAndSet(PENDING, REJECTED)) {
                fail(why);
                return true;
            }
            return false;
        }

        void done(final Throwable failure) {
            if (failure == null) {
                succeed(null);
            } else {
                fail(failure);
            }
        }
    }
}
