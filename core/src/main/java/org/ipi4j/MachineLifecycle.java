package org.ipi4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

import org.ipi4j.apic.InterruptController;
import org.ipi4j.interrupts.MachineClosedException;

/**
 * A machine's lifecycle, new, then started, then closed: the start, which makes every core's
 * thread before it starts any, and the shutdown, in its order (the before-shutdown hooks while the
 * cores still take work, the simulation's end, the controller's close, the cores' stop, the stall
 * watch's, the shutdown hooks), run once with one report. Its own class so that the order of a
 * shutdown has one home and the machine's file is its public face and its wiring; what is
 * simulated is decided by the machine, which hands in the simulation's end and a stall watch or
 * none.
 *
 * <p>Thread-safety: {@link #start}, {@link #shutdown} and {@link #close} take this object's lock
 * only for their state changes, never while they run the caller's code (the thread factory, the
 * hooks) or wait: one start, one shutdown, one report, and a second shutdown waits for the first's
 * report within its own timeout. The hooks are registered from any thread; a before-shutdown hook
 * is refused once the shutdown has taken its snapshot of them, under the hooks' lock.
 */
final class MachineLifecycle {
    private static final int NEW = 0;
    /** The factory is making the cores' threads, outside the lock (a shutdown meanwhile does not wait for it). */
    private static final int STARTING = 1;
    private static final int STARTED = 2;
    private static final int CLOSED = 3;
    /** How often a wait (start's for its cores, a second shutdown's for the first) looks at what else happened. */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final String name;
    private final Core[] cores;
    /** The builder's, or null for daemon threads the cores make themselves. */
    private final ThreadFactory threadFactory;
    private final InterruptController interrupts;
    private final OopsLog oopses;
    /** Tells a shutdown called from one of the machine's own cores. */
    private final MachineHost host;
    /** Null unless the builder set a stall threshold (and the machine is not simulated). */
    private final StallWatch stallWatch;
    /** Ends the machine's simulation (its cores then stop in real time); nothing on the host. */
    private final Runnable endSimulation;
    private final List<Runnable> shutdownHooks = new CopyOnWriteArrayList<>();
    /**
     * Run first at shutdown, the last registered first, while the cores still take work. Its lock
     * guards it with {@link #shuttingDown}: a hook is added, or refused, wholly before or wholly
     * after the shutdown takes its snapshot, so a refused hook never runs and an accepted one always does.
     */
    private final List<Consumer<Duration>> stopHooks = new ArrayList<>();
    /** Set, under {@link #stopHooks}' lock, when the shutdown takes its snapshot of the hooks. */
    private boolean shuttingDown;
    /** Guarded by this: NEW, STARTING, STARTED, CLOSED. */
    private int state = NEW;
    /** Guarded by this: the thread running the shutdown, from its first step to its report. */
    private Thread shutter;
    /** Guarded by this: the shutdown's report, once made. */
    private ShutdownReport report;
    /** Opens when {@link #report} is set: a second shutdown waits on it, within its own timeout. */
    private final CountDownLatch reported = new CountDownLatch(1);

    /**
     * The lifecycle of machine {@code name}, whose {@code cores} take interrupts from
     * {@code interrupts}; {@code stallWatch} may be null, {@code endSimulation} is the
     * simulation's end or does nothing.
     */
    MachineLifecycle(final String name, final Core[] cores, final ThreadFactory threadFactory,
                     final InterruptController interrupts, final OopsLog oopses, final MachineHost host,
                     final StallWatch stallWatch, final Runnable endSimulation) {
        this.name = name;
        this.cores = cores;
        this.threadFactory = threadFactory;
        this.interrupts = interrupts;
        this.oopses = oopses;
        this.host = host;
        this.stallWatch = stallWatch;
        this.endSimulation = endSimulation;
    }

    /** See {@link Machine#start()}. */
    void start() {
        final CountDownLatch running = new CountDownLatch(cores.length);
        final AtomicIntegerArray ran = new AtomicIntegerArray(cores.length); // core i's thread ran its body
        synchronized (this) {
            if (state == CLOSED || shutter != null) {
                throw new IllegalStateException("machine " + name + " is closed" + (state == CLOSED ? "" : " (shutting down)")
                    + ": a machine starts once, before it is shut down");
            }
            if (state != NEW) {
                throw new IllegalStateException("machine " + name + " was already started");
            }
            state = STARTING;
        }
        // Every thread is made before any starts, outside the lock: the factory is the caller's
        // code, and a shutdown must not wait for it. A factory that fails leaves the machine NEW.
        final Thread[] threads;
        try {
            threads = makeThreads(running, ran);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                if (state == STARTING) {
                    state = NEW;
                }
            }
            throw e;
        }
        synchronized (this) {
            if (state != STARTING || shutter != null) { // a shutdown began while the factory ran: start nothing
                throw new IllegalStateException("machine " + name + " is closed (shut down while its threads were "
                    + "made): no core started");
            }
            state = STARTED;
            for (final Thread t : threads) {
                t.start();
            }
            if (stallWatch != null) {
                stallWatch.start();
            }
        }
        awaitRunning(running, ran, threads);
    }

    /** The cores' threads, each checked new, unstarted and not another core's. */
    private Thread[] makeThreads(final CountDownLatch running, final AtomicIntegerArray ran) {
        final Thread[] threads = new Thread[cores.length];
        final Map<Thread, Integer> made = new IdentityHashMap<>();
        for (final Core core : cores) {
            final int id = core.id();
            final Thread t = core.newThread(name + "-core-" + id, () -> {
                ran.set(id, 1);
                running.countDown();
            }, threadFactory);
            final Integer other = made.putIfAbsent(t, id);
            if (other != null) {
                throw new IllegalStateException("threadFactory returned the same thread (" + t.getName() + ") for cores "
                    + other + " and " + id + " of machine " + name + ": each core needs a new thread of its own");
            }
            threads[id] = t;
        }
        return threads;
    }

    /**
     * Waits until every core's thread runs its body. A shutdown meanwhile ends the wait (the
     * machine is closed: refused); a thread that ended without running the body (a factory whose
     * thread does not run what it was given) shuts the machine down and is named.
     */
    private void awaitRunning(final CountDownLatch running, final AtomicIntegerArray ran, final Thread[] threads) {
        try {
            while (!running.await(POLL_NANOS, TimeUnit.NANOSECONDS)) {
                synchronized (this) {
                    if (state == CLOSED || shutter != null) {
                        throw new IllegalStateException("machine " + name + " is closed: it was shut down before "
                            + "all its cores were running");
                    }
                }
                for (int i = 0; i < threads.length; i++) {
                    if (ran.get(i) == 0 && threads[i].getState() == Thread.State.TERMINATED) {
                        shutdown(Duration.ofSeconds(1));
                        throw new IllegalStateException("the thread threadFactory made for core " + i + " of machine "
                            + name + " (" + threads[i].getName() + ") ended without running the core's body: the "
                            + "machine is shut down");
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + name, e);
        }
    }

    /** See {@link Machine#onShutdown}. */
    void onShutdown(final Runnable hook) {
        shutdownHooks.add(Objects.requireNonNull(hook, "hook"));
    }

    /** See {@link Machine#beforeShutdown}. */
    void beforeShutdown(final Consumer<Duration> hook) {
        Objects.requireNonNull(hook, "hook");
        synchronized (stopHooks) { // with the shutdown's snapshot: accepted and run, or refused and never run
            if (shuttingDown) {
                throw new MachineClosedException("machine " + name + " is shutting down: a before-shutdown hook "
                    + "registered now would not run");
            }
            stopHooks.add(0, hook);
        }
    }

    /** See {@link Machine#shutdown(Duration)}. */
    ShutdownReport shutdown(final Duration timeout) {
        return stop(timeout).report();
    }

    /** A shutdown's report, and whether this call was the one that shut the machine down. */
    private record Stop(ShutdownReport report, boolean performed) {
    }

    private Stop stop(final Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        final Core self = host.currentCore();
        if (self != null) {
            throw new IllegalStateException("shutdown() called on core " + self.id() + " of the machine it stops");
        }
        // One deadline for every wait below, taken first: the closing protocol's wait too, and a
        // second caller's wait for the first.
        final long deadline = System.nanoTime() + Deadlines.saturatedNanos(timeout);
        final boolean started;
        for (;;) {
            final Thread other;
            synchronized (this) {
                if (report != null) {
                    return new Stop(report, false);
                }
                if (shutter == Thread.currentThread()) { // a before-shutdown hook called us
                    throw new IllegalStateException("shutdown() of machine " + name + " called while it shuts down, "
                        + "from one of its before-shutdown hooks");
                }
                if (shutter == null) {
                    shutter = Thread.currentThread(); // from now on start() starts nothing
                    started = state == STARTED;
                    break;
                }
                other = shutter;
            }
            // Another thread is shutting the machine down: wait for its report, within our own timeout.
            final long left = deadline - System.nanoTime();
            if (left <= 0) {
                return new Stop(new ShutdownReport(List.of(), 0, List.of("machine " + name + ": another shutdown, on "
                    + "thread " + other.getName() + ", was still in progress when this one's " + timeout + " ran out")),
                    false);
            }
            try {
                reported.await(Math.min(left, POLL_NANOS), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for another thread's shutdown of " + name, e);
            }
        }
        ShutdownReport r = null;
        try {
            final List<Consumer<Duration>> hooks;
            synchronized (stopHooks) {
                shuttingDown = true; // a hook registered from now on is refused
                hooks = List.copyOf(stopHooks);
            }
            if (started) {
                ShutdownSequence.runStopHooks(hooks, deadline, oopses);
            }
            endSimulation.run(); // the cores stop in real time
            // From here on nothing new is queued anywhere; a sender still inside a send at the
            // deadline (a core stuck in a handler its BLOCK back-off took) is reported, not waited for.
            final List<String> inFlight = interrupts.close(deadline);
            synchronized (this) {
                state = CLOSED;
            }
            r = ShutdownSequence.stopCores(name, cores, started, deadline, inFlight);
            if (stallWatch != null && started) {
                stallWatch.stop(); // after the cores: a core stuck in the shutdown is still reported
            }
        } finally {
            synchronized (this) {
                if (r != null) {
                    report = r; // before the shutdown hooks: one that calls close() or shutdown() gets it
                } else {
                    shutter = null; // it threw before its report: a later shutdown tries again
                }
            }
        }
        reported.countDown();
        ShutdownSequence.runHooks(shutdownHooks, oopses);
        return new Stop(r, true);
    }

    /** See {@link Machine#close()}. */
    void close() {
        final Stop s = stop(Duration.ofSeconds(10));
        if (s.performed() && !s.report().isClean()) { // only the call that shut the machine down reports
            throw new UncleanShutdownException(name, s.report());
        }
    }
}
