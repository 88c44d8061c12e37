package org.ipi4j;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;

/**
 * The machine's interrupt controller: the interrupt descriptor table and the "interrupt command
 * register" every core (or any other thread) writes to send an IPI.
 *
 * <h2>Send</h2>
 * {@code send(target, vector, payload)} is fire-and-forget: the payload (if not null) goes into
 * the target's bounded JCTools MPSC mailbox for that vector, then the vector's pending bit in the
 * target's IRR is set with an atomic read-modify-write. If the bit was already set, the request
 * coalesces with the pending one (its payload is still delivered: the handler drains the whole
 * mailbox). If the target is parked it is unparked; if it is running or polling, no system call
 * is made. The sender never waits for the handler.
 *
 * <h2>Happens-before</h2>
 * Everything the sending thread did before {@code send} happens-before the handler entry that
 * receives its payload, and before the handler entry that clears the pending bit it set. So a
 * handler sees every write its sender made before sending, payload or not.
 *
 * <h2>Bad input</h2>
 * A core id outside the machine, an exception vector (0–31) or a vector with no handler gives
 * {@link IllegalArgumentException} before anything is queued; a closing machine gives
 * {@link MachineClosedException}; a full mailbox is handled by the machine's
 * {@link OverflowPolicy}. Thread-safe: any thread may send; registration is serialised.
 */
public final class InterruptController {
    private static final ExceptionHandler KILL = fault -> ExceptionHandler.Action.KILL;

    private final Machine machine;
    private final Core[] cores;
    private final int mailboxCapacity;
    private final OverflowPolicy overflowPolicy;
    private final long blockTimeoutNanos;
    private final AtomicReferenceArray<InterruptHandler> idt = new AtomicReferenceArray<>(Vector.COUNT);
    private final AtomicReferenceArray<ExceptionHandler> exceptionHandlers =
        new AtomicReferenceArray<>(Vector.FIRST_IPI);
    private final LongAdder externalSent = new LongAdder();
    private volatile boolean closed;

    InterruptController(final Machine machine, final Core[] cores, final int mailboxCapacity,
                        final OverflowPolicy overflowPolicy, final long blockTimeoutNanos) {
        this.machine = machine;
        this.cores = cores;
        this.mailboxCapacity = mailboxCapacity;
        this.overflowPolicy = overflowPolicy;
        this.blockTimeoutNanos = blockTimeoutNanos;
    }

    // ---- the IDT ------------------------------------------------------------------------

    /**
     * Installs {@code handler} for {@code vector} on every core. Allowed before or after start.
     * Sends to the vector are accepted from the moment this returns.
     *
     * @throws IllegalArgumentException for an exception vector (0–31)
     * @throws IllegalStateException    if the vector already has a handler
     */
    public synchronized void register(final Vector vector, final InterruptHandler handler) {
        Objects.requireNonNull(vector, "vector");
        Objects.requireNonNull(handler, "handler");
        if (vector.isException()) {
            throw new IllegalArgumentException(vector + " is reserved for exceptions; use onException()");
        }
        if (idt.get(vector.number()) != null) {
            throw new IllegalStateException(vector + " already has a handler");
        }
        for (final Core core : cores) {
            core.apic.enable(vector.number(), mailboxCapacity);
        }
        idt.set(vector.number(), handler); // published last: a sender that sees it sees the mailboxes
    }

    /** True if {@code vector} has a handler. */
    public boolean isRegistered(final Vector vector) {
        return idt.get(vector.number()) != null;
    }

    /**
     * Installs what a core does when a program raises {@code vector} (13 #GP, 14 #PF, ...).
     * Replaces the previous one; the default kills the program.
     *
     * @throws IllegalArgumentException if {@code vector} is not an exception vector
     */
    public void onException(final Vector vector, final ExceptionHandler handler) {
        Objects.requireNonNull(handler, "handler");
        if (!vector.isException()) {
            throw new IllegalArgumentException(vector + " is not an exception vector (0-31)");
        }
        exceptionHandlers.set(vector.number(), handler);
    }

    InterruptHandler handler(final int vector) {
        return idt.get(vector);
    }

    ExceptionHandler exceptionHandler(final Vector vector) {
        final ExceptionHandler h = exceptionHandlers.get(vector.number());
        return h == null ? KILL : h;
    }

    // ---- sending --------------------------------------------------------------------------

    /** Number of cores a destination may name. */
    public int cpuCount() {
        return cores.length;
    }

    /** Total interrupts sent by threads that are not cores of this machine. */
    public long externalSent() {
        return externalSent.sum();
    }

    /**
     * Sends {@code vector} with {@code payload} (null for a bare doorbell) to core {@code cpu}.
     *
     * @throws IllegalArgumentException if the core does not exist or the vector is not sendable
     * @throws MachineClosedException   if the machine is closing
     * @throws MailboxFullException     if the mailbox stays full (see {@link OverflowPolicy})
     */
    public void send(final int cpu, final Vector vector, final Object payload) {
        checkVector(vector);
        final Core target = machine.core(cpu);
        final Core self = self();
        if (!deliver(target, vector.number(), payload, self)) {
            throw new MailboxFullException(CpuSet.of(cpu), vector, overflowPolicy + " policy, capacity " + mailboxCapacity);
        }
    }

    /**
     * Multicast: sends to every core in {@code cpus}, lowest first. Validation happens before
     * anything is sent. If some mailboxes stay full, every other target still receives the
     * payload and the exception names the ones that did not.
     */
    public void send(final CpuSet cpus, final Vector vector, final Object payload) {
        Objects.requireNonNull(cpus, "cpus");
        checkVector(vector);
        machine.checkCores(cpus);
        sendMany(cpus, -1, vector, payload);
    }

    /** Sends to a shorthand destination resolved against the calling core. */
    public void send(final Shorthand shorthand, final Vector vector, final Object payload) {
        Objects.requireNonNull(shorthand, "shorthand");
        checkVector(vector);
        final Core self = self();
        switch (shorthand) {
            case SELF -> {
                if (self == null) {
                    throw new IllegalStateException("Shorthand.SELF used from " + Thread.currentThread().getName()
                        + ", which is not a core of this machine");
                }
                send(self.id(), vector, payload);
            }
            case ALL -> sendMany(CpuSet.firstN(cores.length), -1, vector, payload);
            case ALL_BUT_SELF -> sendMany(CpuSet.firstN(cores.length), self == null ? -1 : self.id(), vector, payload);
            default -> throw new IllegalArgumentException(shorthand.toString());
        }
    }

    private void sendMany(final CpuSet cpus, final int skip, final Vector vector, final Object payload) {
        final Core self = self();
        final int[] failed = new int[cores.length];
        final int[] nFailed = {0};
        cpus.forEach(cpu -> {
            if (cpu != skip && !deliver(cores[cpu], vector.number(), payload, self)) {
                failed[nFailed[0]++] = cpu;
            }
        });
        if (nFailed[0] > 0) {
            throw new MailboxFullException(CpuSet.of(java.util.Arrays.copyOf(failed, nFailed[0])), vector,
                overflowPolicy + " policy, capacity " + mailboxCapacity);
        }
    }

    private Core self() {
        return machine.currentCore();
    }

    private void checkVector(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        if (vector.isException()) {
            throw new IllegalArgumentException(vector + " is reserved for exceptions and cannot be sent");
        }
        if (idt.get(vector.number()) == null) {
            throw new IllegalArgumentException(vector + " has no handler registered");
        }
    }

    /** @return false if the payload did not fit */
    private boolean deliver(final Core target, final int v, final Object payload, final Core self) {
        target.inFlight.incrementAndGet();
        try {
            checkOpen();
            if (payload != null && !enqueue(target, v, payload, self)) {
                return false;
            }
            raise(target, v, self);
            return true;
        } finally {
            target.inFlight.decrementAndGet();
        }
    }

    private boolean enqueue(final Core target, final int v, final Object payload, final Core self) {
        if (target.apic.offer(v, payload)) {
            return true;
        }
        if (overflowPolicy == OverflowPolicy.FAIL || target == self) {
            return false;
        }
        // BLOCK: make sure the target knows there is something to drain, then back off.
        ring(target, v);
        final long deadline = System.nanoTime() + blockTimeoutNanos;
        int spins = 0;
        while (!target.apic.offer(v, payload)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            if (self != null && self.interruptsEnabled()) {
                self.checkpoint(); // keep draining our own mailboxes: no mutual deadlock
            }
            if (++spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        return true;
    }

    /** Sets the pending bit (full fence, release of everything before) and wakes if needed. */
    void raise(final Core target, final int v, final Core self) {
        ring(target, v);
        if (self != null) {
            self.sent.increment();
        } else {
            externalSent.increment();
        }
    }

    private static void ring(final Core target, final int v) {
        if (target.apic.raise(v)) {
            target.kick();
        } else {
            target.coalesced.increment();
        }
    }

    // ---- lifecycle --------------------------------------------------------------------------

    void checkOpen() {
        if (closed) {
            throw new MachineClosedException("machine " + machine.name() + " is closed: nothing was sent or queued");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Refuses new sends, then waits until no sender is between its check and its enqueue. */
    void close() {
        closed = true;
        for (final Core core : cores) {
            while (core.inFlight.get() != 0) {
                Thread.onSpinWait();
            }
        }
    }

    void closeFromCore() {
        closed = true;
    }

}
