package org.ipi4j;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
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
 * <p>Thread-safety: {@link #start}, {@link #shutdown} and {@link #close} hold this object's lock
 * (one start, one shutdown, one report). The hooks are registered from any thread (copy-on-write
 * lists); a before-shutdown hook is refused once the shutdown has begun, by a Dekker with it.
 */
final class MachineLifecycle {
    private static final int NEW = 0;
    private static final int STARTED = 1;
    private static final int CLOSED = 2;

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
    /** Run first at shutdown, the last registered first, while the cores still take work. */
    private final List<Consumer<Duration>> stopHooks = new CopyOnWriteArrayList<>();
    private int state = NEW;
    private ShutdownReport report;
    /**
     * Set (volatile) before the before-shutdown hooks run: a hook registered from then on is
     * refused (partner: {@link #beforeShutdown}'s read after its add), and a shutdown called from
     * inside a hook, on the same thread, is refused instead of running the shutdown again.
     */
    private volatile boolean shuttingDown;

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
        synchronized (this) {
            if (state != NEW) {
                throw new IllegalStateException("machine " + name + " was already started");
            }
            // Every thread is made before any starts: a factory that fails leaves the machine NEW.
            final Thread[] threads = new Thread[cores.length];
            for (final Core core : cores) {
                threads[core.id()] = core.newThread(name + "-core-" + core.id(), running::countDown, threadFactory);
            }
            state = STARTED;
            for (final Thread t : threads) {
                t.start();
            }
            if (stallWatch != null) {
                stallWatch.start();
            }
        }
        try {
            running.await();
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
        stopHooks.add(0, hook);
        // Dekker with shutdown: it sets the flag, then takes the hooks; we add, then read the flag.
        // Either its run sees our hook or we see the flag (or both: the hook then runs and we throw).
        if (shuttingDown) {
            stopHooks.remove(hook);
            throw new MachineClosedException("machine " + name + " is shutting down: a before-shutdown hook "
                + "registered now would not run");
        }
    }

    /** See {@link Machine#shutdown(Duration)}. */
    synchronized ShutdownReport shutdown(final Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        final Core self = host.currentCore();
        if (self != null) {
            throw new IllegalStateException("shutdown() called on core " + self.id() + " of the machine it stops");
        }
        if (report != null) {
            return report;
        }
        if (shuttingDown) { // only this thread can be here now: the lock is ours, a hook called us
            throw new IllegalStateException("shutdown() of machine " + name + " called while it shuts down, from "
                + "one of its before-shutdown hooks");
        }
        shuttingDown = true; // before the hooks run: a hook registered from now on is refused
        // One deadline for every wait below, taken first: the closing protocol's wait too.
        final long deadline = System.nanoTime() + Deadlines.saturatedNanos(timeout);
        if (state == STARTED) {
            ShutdownSequence.runStopHooks(stopHooks, deadline, oopses);
        }
        endSimulation.run(); // the cores stop in real time
        // From here on nothing new is queued anywhere; a sender still inside a send at the
        // deadline (a core stuck in a handler its BLOCK back-off took) is reported, not waited for.
        final List<String> inFlight = interrupts.close(deadline);
        final boolean started = state == STARTED;
        state = CLOSED;
        report = ShutdownSequence.stopCores(name, cores, started, deadline, inFlight);
        if (stallWatch != null && started) {
            stallWatch.stop(); // after the cores: a core stuck in the shutdown is still reported
        }
        ShutdownSequence.runHooks(shutdownHooks, oopses);
        return report;
    }

    /** See {@link Machine#close()}. */
    synchronized void close() {
        final boolean first = report == null; // under the lock shutdown takes too: one close reports
        final ShutdownReport r = shutdown(Duration.ofSeconds(10));
        if (first && !r.isClean()) {
            throw new UncleanShutdownException(name, r);
        }
    }
}
