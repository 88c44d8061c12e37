package org.ipi4j;

import java.util.concurrent.ThreadFactory;

import org.ipi4j.apic.IdleLoop;
import org.ipi4j.apic.Vcpu;
import org.ipi4j.time.Timeline;

/**
 * One core's platform thread, from its making to its join: made once from a factory (checked to
 * be new), then, on the thread itself, pinned where it can be, bound to the core's idle loop, vCPU
 * and timeline for as long as the core's body runs, and unbound again in reverse order when the
 * body ends. Its own class so that the runtime's file holds the run loop and the boundary, not the
 * thread's setup around them.
 *
 * <p>Thread-safety: {@link #make} is called once, by the machine's start, before the thread
 * starts (the start is the happens-before edge to everything the thread does). {@link #get},
 * {@link #isCurrent}, {@link #hostCpu} and {@link #join} take any thread and read volatile fields.
 */
final class CoreThread {
    private final int id;
    /** Null when the core runs unpinned (no pinner, or a pinning policy that does not pin). */
    private final Pinner pinner;
    private final IdleLoop idle;
    private final Vcpu vcpu;
    private final Timeline timeline;
    /** The core's run loop; it returns when the core stops. */
    private final Runnable body;
    private volatile Thread thread;
    private volatile int hostCpu = -1;

    /** The thread of core {@code id}, which runs {@code body}; {@code pinner} null for none. */
    CoreThread(final int id, final Pinner pinner, final IdleLoop idle, final Vcpu vcpu, final Timeline timeline,
               final Runnable body) {
        this.id = id;
        this.pinner = pinner;
        this.idle = idle;
        this.vcpu = vcpu;
        this.timeline = timeline;
        this.body = body;
    }

    /** This core's thread, from {@code maker} (it must be new and run the body given); {@code onStarted} runs on it first. */
    Thread make(final ThreadFactory maker, final Runnable onStarted) {
        final Thread t = maker.newThread(() -> run(onStarted));
        if (t == null || t.getState() != Thread.State.NEW) {
            throw new IllegalStateException("threadFactory must return a new, unstarted thread for core " + id
                + ", returned " + (t == null ? "null" : t + " in state " + t.getState()));
        }
        thread = t;
        return t;
    }

    /** {@return the core's thread, or null before the machine made it} */
    Thread get() {
        return thread;
    }

    /** {@return true if the caller is the core's thread} */
    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** {@return the host CPU the thread is pinned to, or -1 while it runs unpinned} */
    int hostCpu() {
        return hostCpu;
    }

    /** {@return true once the thread has ended (or never existed), waiting at most about {@code millis}} */
    boolean join(final long millis) throws InterruptedException {
        final Thread t = thread;
        if (t == null) {
            return true;
        }
        t.join(Math.max(1, millis));
        return !t.isAlive();
    }

    private void run(final Runnable onStarted) {
        final Pinner.Pin pin = pin();
        idle.bind(Thread.currentThread());
        vcpu.bind(Thread.currentThread());
        timeline.attach(id); // a simulation schedules this thread from here on
        onStarted.run();
        try {
            body.run();
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
}
