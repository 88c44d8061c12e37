package org.ipi4j.smp;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.Core;
import org.ipi4j.Machine;
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
 * <p>Guarantees: every submitted task runs exactly once (here or, stolen, on another core);
 * everything the submitter did before {@code submit} happens-before the task; the task's writes
 * happen-before its future completes. Thread-safe.
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

    /** A scheduler over {@code machine}'s cores. Several may share a machine. */
    public static Scheduler on(final Machine machine) {
        return new Scheduler(Objects.requireNonNull(machine, "machine"));
    }

    /** Places {@code task} on the least-loaded core (ties broken at random). */
    public CompletableFuture<Void> submit(final Runnable task) {
        int best = -1;
        int bestLoad = Integer.MAX_VALUE;
        final int start = ThreadLocalRandom.current().nextInt(cores);
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

    /** Places {@code task} on core {@code cpu}; another core may steal it if {@code cpu} is busy. */
    public CompletableFuture<Void> submit(final int cpu, final Runnable task) {
        Objects.requireNonNull(task, "task");
        final Core core = machine.core(cpu);
        final Job job = new Job(task);
        load.incrementAndGet(cpu);
        ready[cpu].offer(job);
        placed.increment();
        placedOn.incrementAndGet(cpu);
        ensureWorker(core);
        return job.future;
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

    /** Tasks taken from another core's queue. */
    public long steals() {
        return steals.sum();
    }

    /** Task switches made at preemption points. */
    public long switches() {
        return switches.sum();
    }

    /** Tasks submitted. */
    public long placed() {
        return placed.sum();
    }

    /** Tasks placed on {@code cpu} (before any stealing). */
    public long placedOn(final int cpu) {
        return placedOn.get(cpu);
    }

    /** Tasks queued or running on {@code cpu}. */
    public int load(final int cpu) {
        return load.get(cpu);
    }

    private void ensureWorker(final Core core) {
        if (active.compareAndSet(core.id(), 0, 1)) {
            core.submit(() -> work(core.id()));
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
            active.set(cpu, 0);
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
        try {
            job.task.run();
            load.decrementAndGet(owner);
            job.future.complete(null);
        } catch (Throwable t) {
            load.decrementAndGet(owner);
            job.future.completeExceptionally(t);
        }
    }

    private static final class Job {
        final Runnable task;
        final CompletableFuture<Void> future = new CompletableFuture<>();

        Job(final Runnable task) {
            this.task = task;
        }
    }
}
