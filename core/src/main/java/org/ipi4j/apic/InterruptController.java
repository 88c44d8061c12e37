package org.ipi4j.apic;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.idle.Timeline;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.InterruptHandledEvent;
import org.ipi4j.observability.InterruptSentEvent;
import org.jctools.queues.MessagePassingQueue;

/**
 * The machine's interrupt controller: the interrupt descriptor table (IDT) and the "interrupt
 * command register" every core, or any other thread, writes to send an IPI. It holds each core's
 * {@link LocalApic} (what senders write), {@link IdleLoop} (how the core waits and is woken) and
 * {@link CpuContext} (its registers and interrupt entry); it never sees a {@code Core} object.
 *
 * <h2>Send, step by step</h2>
 * <ol>
 *   <li><b>validate</b>: the vector has a handler and is not an exception; the core exists;</li>
 *   <li><b>enter</b> the closing protocol (see below) and refuse if the machine is closed;</li>
 *   <li><b>offer</b> the payload, if any, to the target's bounded JCTools MPSC mailbox for the
 *       vector (a full mailbox is handled by the {@link OverflowPolicy});</li>
 *   <li><b>raise</b> the vector's pending bit with a volatile read-modify-write; if it was already
 *       set, the request coalesces (the pending entry drains the whole mailbox);</li>
 *   <li><b>signal</b>: if the bit was newly set, {@link IdleLoop#wake()} unparks the target if it
 *       is parked, and makes no system call if it is running or polling.</li>
 * </ol>
 * The sender never waits for the handler.
 *
 * <h2>Happens-before</h2>
 * Everything the sending thread did before {@code send} happens-before the handler entry that
 * receives its payload, and before the handler entry that clears the pending bit it set. So a
 * handler sees every write its sender made before sending, payload or not.
 *
 * <h2>Closing protocol</h2>
 * {@link #close} must not return while a sender is between its closed check and its raise, or
 * that sender's payload could land after the machine collected what was left: every send goes
 * through the machine's {@link SendGate}, which says how (a per-core send depth, striped counters
 * for other threads, a Dekker pair with the closer, and a deadline for senders that never leave).
 *
 * <h2>Bad input</h2>
 * A core id outside the machine, an exception vector (0–31) or a vector with no handler gives
 * {@link IllegalArgumentException} before anything is queued; a closing machine gives
 * {@link MachineClosedException} (nothing was queued); a full mailbox is handled by the
 * {@link OverflowPolicy}. Thread-safe: any thread may send; registration is serialised.
 */
public final class InterruptController {
    /** What the controller needs from the machine that owns it. */
    public interface Host {
        /** {@return the id of the core running the calling thread, or -1 if it is not a core of this machine} */
        int currentCpu();

        /**
         * A handler threw on {@code cpu}; {@code payloads} is a copy of what it had received.
         *
         * @param cpu the core's id, 0 to the machine's core count - 1
         * @param vector the interrupt vector
         * @param error what the handler threw
         * @param payloads the payloads the handler was given
         */
        void handlerFailed(int cpu, Vector vector, Throwable error, List<Object> payloads);
    }

    private static final ExceptionHandler KILL = fault -> ExceptionHandler.Action.KILL;

    private final String name;
    private final Host host;
    /** Time, parking and the cost of a send: the host's, or a simulation's. */
    final Timeline timeline;
    /**
     * True for a simulation: guards every cost hook on the hot path, so that on the host a hook is
     * a not-taken branch on a final field rather than a call into the timeline.
     */
    final boolean simulated;
    private final LocalApic[] apics;
    private final IdleLoop[] idles;
    private final CpuContext[] contexts;
    private final int mailboxCapacity;
    private final OverflowPolicy overflowPolicy;
    private final long blockTimeoutNanos;
    final boolean timeHandlers;
    private final FaultInjector faults;
    private final AtomicReferenceArray<InterruptHandler> idt = new AtomicReferenceArray<>(Vector.COUNT);
    private final AtomicReferenceArray<ExceptionHandler> exceptionHandlers =
        new AtomicReferenceArray<>(Vector.FIRST_IPI);
    /** The closing protocol: every send enters it, checks it is open, and leaves it after its raise. */
    private final SendGate gate;
    /** Per core: preemption by the host and the PV flush word. */
    private final Vcpu[] vcpus;
    private final boolean pvSendIpi;
    /** {@link DeliveryMode#POSTED}: a new bit notifies only if it sets the core's ON bit. */
    private final boolean posted;
    private final LongAdder vmExits = new LongAdder();

    /** Targets one paravirtual send-IPI hypercall carries (KVM's bitmap: 128 APIC ids). */
    public static final int PV_SEND_IPI_BATCH = 128;

    /**
     * A controller for {@code cores} cores. The machine creates it; applications reach it with
     * {@code machine.interrupts()}.
     *
     * @param name the name
     * @param cores the number of cores
     * @param idlePolicy how an idle core waits for work
     * @param mailboxCapacity payloads each mailbox holds per vector
     * @param overflowPolicy what a send does when a mailbox is full
     * @param timeHandlers measure time spent in handlers (two clock reads per interrupt)
     * @param faults       faults a test injects, or null (the default: none)
     * @param blockTimeoutNanos how long a {@link org.ipi4j.interrupts.OverflowPolicy#BLOCK} send waits for room
     * @param deliveryMode how a send decides to notify its target
     * @param pvSendIpi    count VM exits as paravirtual send-IPI does: one hypercall per batch of up to
     *                     {@link #PV_SEND_IPI_BATCH} targets, instead of one exit per target
     * @param host the machine's callbacks into the cores
     * @param timeline the machine's time, parking and cost model (the host's, or a simulation's)
     */
    public InterruptController(final String name, final int cores, final IdlePolicy idlePolicy,
                               final int mailboxCapacity, final OverflowPolicy overflowPolicy,
                               final long blockTimeoutNanos, final boolean timeHandlers,
                               final FaultInjector faults, final DeliveryMode deliveryMode, final boolean pvSendIpi,
                               final Host host, final Timeline timeline) {
        this.name = Objects.requireNonNull(name, "name");
        this.timeline = Objects.requireNonNull(timeline, "timeline");
        this.simulated = timeline.simulated();
        this.host = Objects.requireNonNull(host, "host");
        this.mailboxCapacity = mailboxCapacity;
        this.overflowPolicy = Objects.requireNonNull(overflowPolicy, "overflowPolicy");
        this.blockTimeoutNanos = blockTimeoutNanos;
        this.timeHandlers = timeHandlers;
        this.faults = faults;
        this.pvSendIpi = pvSendIpi;
        this.posted = Objects.requireNonNull(deliveryMode, "deliveryMode") == DeliveryMode.POSTED;
        this.vcpus = new Vcpu[cores];
        this.apics = new LocalApic[cores];
        this.idles = new IdleLoop[cores];
        this.contexts = new CpuContext[cores];
        final int stripes = Math.min(256, Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 8));
        this.gate = new SendGate(name, cores, stripes, timeline);
        for (int i = 0; i < cores; i++) {
            apics[i] = new LocalApic(i, deliveryMode);
            idles[i] = new IdleLoop(idlePolicy, i, faults, timeline);
            contexts[i] = new CpuContext(i, apics[i], this);
            vcpus[i] = new Vcpu(i, timeline);
        }
        // Waking an idle core for new work needs no handler work: the run loop looks at its queue
        // after every interrupt.
        register(Vector.RESCHEDULE, irq -> { });
    }

    // ---- per-core parts (for the machine's cores) -----------------------------------------

    /** {@return the machine's time, parking and cost model} */
    public Timeline timeline() {
        return timeline;
    }

    /** {@return the injected faults, or null} */
    public FaultInjector faults() {
        return faults;
    }

    /**
     * {@return core {@code cpu}'s pending bits and mailboxes}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public LocalApic apic(final int cpu) {
        return apics[checkCpu(cpu)];
    }

    /**
     * {@return core {@code cpu}'s idle loop}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public IdleLoop idle(final int cpu) {
        return idles[checkCpu(cpu)];
    }

    /**
     * {@return core {@code cpu}'s virtual-CPU state: preemption by the host, PV flush}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public Vcpu vcpu(final int cpu) {
        return vcpus[checkCpu(cpu)];
    }

    /**
     * {@return emulated VM exits for sending IPIs so far} Each unicast send is one exit (a trapped
     * write of the interrupt command register); a multicast, and a batch of doorbells
     * ({@link #sendDoorbells}), is one exit per target, or with paravirtual send-IPI one hypercall
     * per {@link #PV_SEND_IPI_BATCH} targets.
     */
    public long vmExits() {
        return vmExits.sum();
    }

    /** {@return the delivery mode: per-vector signalling or posted interrupts} */
    public DeliveryMode deliveryMode() {
        return posted ? DeliveryMode.POSTED : DeliveryMode.PER_VECTOR;
    }

    /** {@return true if IPIs to several cores are counted as paravirtual send-IPI hypercalls} */
    public boolean pvSendIpi() {
        return pvSendIpi;
    }

    /**
     * {@return core {@code cpu}'s registers and interrupt entry}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public CpuContext context(final int cpu) {
        return contexts[checkCpu(cpu)];
    }

    // ---- the IDT ------------------------------------------------------------------------

    /**
     * Installs {@code handler} for {@code vector} on every core. Allowed before or after start.
     * Sends to the vector are accepted from the moment this returns.
     *
     * @param vector the interrupt vector
     * @param handler the handler
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
        for (final LocalApic apic : apics) {
            apic.enable(vector.number(), mailboxCapacity);
        }
        // Published last (volatile): a sender that sees the handler sees the mailboxes.
        idt.set(vector.number(), handler);
    }

    /**
     * {@return true if {@code vector} has a handler}
     *
     * @param vector the interrupt vector
     */
    public boolean isRegistered(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        return idt.get(vector.number()) != null;
    }

    /**
     * Installs what a core does when a program raises {@code vector} (13 #GP, 14 #PF, ...).
     * Replaces the previous one; the default kills the program.
     *
     * @param vector the interrupt vector
     * @param handler the handler
     * @throws IllegalArgumentException if {@code vector} is not an exception vector
     */
    public void onException(final Vector vector, final ExceptionHandler handler) {
        Objects.requireNonNull(vector, "vector");
        Objects.requireNonNull(handler, "handler");
        if (!vector.isException()) {
            throw new IllegalArgumentException(vector + " is not an exception vector (0-31)");
        }
        exceptionHandlers.set(vector.number(), handler);
    }

    InterruptHandler handler(final int vector) {
        return idt.get(vector);
    }

    /**
     * {@return what a core does with exception {@code vector}: the installed handler, or KILL}
     *
     * @param vector the interrupt vector
     */
    public ExceptionHandler exceptionHandler(final Vector vector) {
        Objects.requireNonNull(vector, "vector");
        final ExceptionHandler h = exceptionHandlers.get(vector.number());
        return h == null ? KILL : h;
    }

    void handlerFailed(final int cpu, final Vector vector, final Throwable error, final List<Object> payloads) {
        host.handlerFailed(cpu, vector, error, payloads);
    }

    // ---- sending --------------------------------------------------------------------------

    /** {@return number of cores a destination may name} */
    public int cpuCount() {
        return apics.length;
    }

    /**
     * Checks that core {@code cpu} exists.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @return {@code cpu}
     * @throws IllegalArgumentException naming the core and the machine's range
     */
    public int checkCpu(final int cpu) {
        if (cpu < 0 || cpu >= apics.length) {
            throw new IllegalArgumentException("core " + cpu + " does not exist: the machine has "
                + apics.length + " cores (0-" + (apics.length - 1) + ")");
        }
        return cpu;
    }

    /**
     * Checks that every core in {@code cpus} exists.
     *
     * @param cpus the target cores
     * @throws IllegalArgumentException naming the highest core outside the machine
     */
    public void checkCpus(final CpuSet cpus) {
        Objects.requireNonNull(cpus, "cpus");
        if (!cpus.isEmpty()) {
            checkCpu(cpus.highest());
        }
    }

    /** {@return total interrupts sent by threads that are not cores of this machine} */
    public long externalSent() {
        return gate.outsideSends();
    }

    /**
     * Sends {@code vector} with {@code payload} (null for a bare doorbell) to core {@code cpu}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @throws IllegalArgumentException if the core does not exist or the vector is not sendable
     * @throws MachineClosedException   if the machine is closing (nothing was queued)
     * @throws MailboxFullException     if the mailbox stays full (see {@link OverflowPolicy})
     */
    public void send(final int cpu, final Vector vector, final Object payload) {
        checkVector(vector);
        checkCpu(cpu);
        vmExits.increment();
        if (!deliver(cpu, vector.number(), payload, host.currentCpu(), true)) {
            throw full(CpuSet.of(cpu), vector);
        }
    }

    /**
     * Like {@link #send(int, Vector, Object)}, but never waits and never throws for a full mailbox,
     * whatever the {@link OverflowPolicy}: the payload is queued and the vector raised, or nothing
     * happens and the answer is false.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @return false if the mailbox was full (nothing was queued)
     * @throws IllegalArgumentException if the core does not exist or the vector is not sendable
     * @throws MachineClosedException   if the machine is closing (nothing was queued)
     */
    public boolean trySend(final int cpu, final Vector vector, final Object payload) {
        checkVector(vector);
        checkCpu(cpu);
        vmExits.increment();
        return deliver(cpu, vector.number(), payload, host.currentCpu(), false);
    }

    /**
     * Rings {@code vector} without payload on each of the first {@code count} cores in
     * {@code cpus}: what a layer that fans one request out to many cores sends (a cross-core
     * call's flat broadcast). Counted as one batch for {@link #vmExits()}. A core that cannot be
     * reached because the machine is closing is handed to {@code unreachable} (nothing was sent to
     * it); the others still get their doorbell. Allocates nothing.
     *
     * @param cpus the target cores (ids are checked)
     * @param count how many of them
     * @param vector the interrupt vector
     * @param unreachable told each core the machine refused because it is closing
     */
    public void sendDoorbells(final int[] cpus, final int count, final Vector vector, final IntConsumer unreachable) {
        Objects.requireNonNull(cpus, "cpus");
        Objects.requireNonNull(unreachable, "unreachable");
        if (count < 0 || count > cpus.length) {
            throw new IllegalArgumentException("count must be 0 to cpus.length (" + cpus.length + "), not " + count);
        }
        checkVector(vector);
        final int self = host.currentCpu();
        for (int i = 0; i < count; i++) {
            final int cpu = checkCpu(cpus[i]);
            try {
                deliver(cpu, vector.number(), null, self, false); // a doorbell always fits
            } catch (MachineClosedException e) {
                unreachable.accept(cpu);
            }
        }
        countExits(count);
    }

    /** VM exits for a send to {@code targets} cores: one each, or one hypercall per batch with PV send-IPI. */
    private void countExits(final int targets) {
        vmExits.add(pvSendIpi ? (targets + PV_SEND_IPI_BATCH - 1) / PV_SEND_IPI_BATCH : targets);
    }

    /**
     * Multicast: sends to every core in {@code cpus}, lowest first. Validation happens before
     * anything is sent. If some mailboxes stay full, every other target still receives the
     * payload and the exception names the ones that did not.
     *
     * @param cpus the target cores
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @throws MachineClosedException if the machine is closed; if it closed in the middle of the
     *         multicast (a BLOCK wait for room), {@link MachineClosedException#delivered()} names the
     *         targets that got the payload before the close
     */
    public void send(final CpuSet cpus, final Vector vector, final Object payload) {
        Objects.requireNonNull(cpus, "cpus");
        checkVector(vector);
        checkCpus(cpus);
        sendMany(cpus, -1, vector, payload);
    }

    /**
     * Sends to a shorthand destination resolved against the calling core.
     *
     * @param shorthand the destination shorthand, resolved against the sending core
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     */
    public void send(final Shorthand shorthand, final Vector vector, final Object payload) {
        Objects.requireNonNull(shorthand, "shorthand");
        checkVector(vector);
        final int self = host.currentCpu();
        switch (shorthand) {
            case SELF -> {
                if (self < 0) {
                    throw new IllegalStateException("Shorthand.SELF used from " + Thread.currentThread().getName()
                        + ", which is not a core of machine " + name);
                }
                send(self, vector, payload);
            }
            case ALL -> sendMany(CpuSet.firstN(apics.length), -1, vector, payload);
            case ALL_BUT_SELF -> sendMany(CpuSet.firstN(apics.length), self, vector, payload);
            default -> throw new IllegalArgumentException(shorthand.toString());
        }
    }

    private void sendMany(final CpuSet cpus, final int skip, final Vector vector, final Object payload) {
        final int self = host.currentCpu();
        final int[] failed = new int[apics.length];
        int nFailed = 0;
        int n = 0;
        for (int cpu = cpus.next(0); cpu >= 0; cpu = cpus.next(cpu + 1)) {
            if (cpu == skip) {
                continue;
            }
            n++;
            try {
                if (!deliver(cpu, vector.number(), payload, self, true)) {
                    failed[nFailed++] = cpu;
                }
            } catch (MachineClosedException closed) {
                // The machine closed in the middle (a BLOCK wait for room, say): the targets before
                // this one have the payload. Say which, instead of "nothing was queued".
                countExits(n);
                CpuSet delivered = CpuSet.empty(); // the failure path only: allocating is fine here
                for (int c = cpus.next(0); c >= 0 && c < cpu; c = cpus.next(c + 1)) {
                    if (c != skip && !contains(failed, nFailed, c)) {
                        delivered = delivered.with(c);
                    }
                }
                if (delivered.isEmpty()) {
                    throw closed;
                }
                throw new MachineClosedException("machine " + name + " closed during a multicast of " + vector
                    + ": cores " + delivered + " got the payload, the others did not", delivered);
            }
        }
        countExits(n);
        if (nFailed > 0) {
            throw full(CpuSet.of(Arrays.copyOf(failed, nFailed)), vector);
        }
    }

    private static boolean contains(final int[] cpus, final int n, final int cpu) {
        for (int i = 0; i < n; i++) {
            if (cpus[i] == cpu) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sends {@code vector} to core {@code cpu} again without a payload, and wakes the core if it
     * is parked even when the vector was already pending: a watchdog's re-send, for a core that may
     * have missed its wake-up. Otherwise like {@link #send(int, Vector, Object)}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     */
    public void resend(final int cpu, final Vector vector) {
        checkVector(vector);
        checkCpu(cpu);
        vmExits.increment();
        final int self = host.currentCpu();
        gate.enter(self); // then the closed check: see SendGate
        try {
            checkOpen();
            final int v = vector.number();
            stampForJfr(cpu, v);
            chargeSend();
            apics[cpu].raise(v);
            signal(cpu, v, true, true, self); // wake unconditionally: the bit may be set with nobody left to wake us
        } catch (MachineClosedException e) {
            gate.refused(self);
            throw e;
        } finally {
            gate.exit(self);
        }
    }

    /**
     * Queues {@code item} on {@code queue}, which core {@code cpu}'s run loop polls, under the
     * same closing protocol as a send, then wakes the core with a {@link Vector#RESCHEDULE} IPI
     * if it is parked; a running or polling core finds the item by itself (the reschedule IPI is
     * elided). The queue's offer must be a volatile read-modify-write (JCTools' MPSC queues are):
     * it is the partner of the core's re-check of its queue after publishing PARKED.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param <E> the item type
     * @param queue the core's queue
     * @param item the item to queue
     * @throws MachineClosedException if the machine is closing (nothing was queued)
     */
    public <E> void post(final int cpu, final MessagePassingQueue<E> queue, final E item) {
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(item, "item");
        checkCpu(cpu);
        final int self = host.currentCpu();
        gate.enter(self); // then the closed check: see SendGate
        try {
            checkOpen();
            queue.offer(item);
            if (idles[cpu].isParked()) { // volatile load after the offer's RMW
                raise(cpu, Vector.RESCHEDULE.number(), self);
            } else {
                idles[cpu].elided.increment();
            }
        } catch (MachineClosedException e) {
            gate.refused(self);
            throw e;
        } finally {
            gate.exit(self);
        }
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

    /**
     * Steps 2-5 of a send. A payload send raises with {@link LocalApic#raiseAfterOffer} (the
     * payload carries the happens-before edge); a doorbell always writes the bit.
     *
     * @param mayBlock false: never wait for room, whatever the overflow policy (trySend)
     * @return false if the payload did not fit
     */
    private boolean deliver(final int cpu, final int v, final Object payload, final int self, final boolean mayBlock) {
        gate.enter(self); // then the closed check: see SendGate
        try {
            checkOpen();
            timeline.interleave(); // past the closed check, not yet raised: close() must wait for us
            if (payload == null) {
                raise(cpu, v, self);
            } else if (enqueue(cpu, v, payload, self, mayBlock)) {
                raiseAfterOffer(cpu, v, self);
            } else {
                gate.refused(self);
                return false;
            }
            return true;
        } catch (MachineClosedException e) {
            gate.refused(self);
            throw e;
        } finally {
            gate.exit(self);
        }
    }

    private boolean enqueue(final int cpu, final int v, final Object payload, final int self, final boolean mayBlock) {
        final LocalApic target = apics[cpu];
        if (target.offer(v, payload)) {
            return true;
        }
        if (!mayBlock || overflowPolicy == OverflowPolicy.FAIL || cpu == self) {
            return false;
        }
        // BLOCK: make sure the target knows there is something to drain, then back off.
        if (notifies(cpu, target.raise(v))) {
            idles[cpu].wake();
        }
        final CpuContext own = self >= 0 ? contexts[self] : null;
        final long deadline = timeline.nanoTime() + blockTimeoutNanos;
        int spins = 0;
        do {
            if (own != null) {
                own.deliverPending(own.epc()); // keep draining our own mailboxes: no mutual deadlock
            }
            if (++spins < 100) {
                timeline.spinWait();
            } else {
                timeline.yieldCpu();
            }
            // Right before every offer, after whatever the handlers above ran (for as long as they
            // took): a machine that closed meanwhile refuses us, and nothing was queued. The closer
            // waits for our send depth only for the instant between this check and the offer.
            checkOpen();
            if (timeline.nanoTime() - deadline > 0) {
                return false;
            }
            timeline.interleave(); // past the closed check after our own handlers ran: close() must still wait for us
        } while (!target.offer(v, payload));
        return true;
    }

    /** A simulation's price of the ICR write, charged before the bit is visible; nothing on the host. */
    private void chargeSend() {
        if (simulated) {
            timeline.spend(Timeline.Work.SEND, 1);
        }
    }

    /** Step 4 and 5: raise the pending bit (releasing everything before it), wake if newly set. */
    private void raise(final int cpu, final int v, final int self) {
        chargeSend();
        stampForJfr(cpu, v);
        final boolean raised = apics[cpu].raise(v);
        signal(cpu, v, raised, notifies(cpu, raised), self);
    }

    /** {@link #raise} for a payload already in the mailbox: a bit found set is not written again. */
    private void raiseAfterOffer(final int cpu, final int v, final int self) {
        chargeSend();
        stampForJfr(cpu, v);
        final boolean raised = apics[cpu].raiseAfterOffer(v);
        signal(cpu, v, raised, notifies(cpu, raised), self);
    }

    /**
     * Whether a send that {@code raised} (set its bit from 0 to 1) or coalesced must signal the
     * core: per vector, every new bit does; posted, only the send that sets ON (a bit found set was
     * covered by its setter either way).
     */
    private boolean notifies(final int cpu, final boolean raised) {
        return raised && (!posted || apics[cpu].postNotification());
    }

    /** While JFR records InterruptHandled: the send's time, published by the raise that follows. */
    private void stampForJfr(final int cpu, final int v) {
        if (InterruptHandledEvent.isRecorded()) {
            apics[cpu].stampRaise(v, timeline.nanoTime());
        }
    }

    /** Step 5, after a raise: wakes the target if asked (partner: IdleLoop.prepareToPark), counts the send. */
    private void signal(final int cpu, final int v, final boolean raised, final boolean notify, final int self) {
        final boolean woke = notify && idles[cpu].wake();
        if (self >= 0) {
            contexts[self].sent.increment();
        }
        InterruptSentEvent.emit(self, cpu, v, !raised, woke);
    }

    private MailboxFullException full(final CpuSet failed, final Vector vector) {
        return new MailboxFullException(failed, vector, overflowPolicy + " policy, capacity " + mailboxCapacity);
    }

    // ---- lifecycle --------------------------------------------------------------------------

    /** @throws MachineClosedException if the machine is closing */
    public void checkOpen() {
        gate.checkOpen();
    }

    /** {@return true once the machine refuses sends} */
    public boolean isClosed() {
        return gate.isClosed();
    }

    /**
     * Refuses new sends, then waits until no sender is between its closed check and its raise, or
     * until {@code deadlineNanos} ({@link System#nanoTime()}) has passed: {@link SendGate#close}.
     * A sender blocked on a full mailbox sees the close and leaves; a core whose BLOCK back-off took
     * a handler that never returns stays inside its send and is named in the result.
     *
     * @param deadlineNanos when to stop waiting, on {@link System#nanoTime()}'s clock
     * @return the senders still inside a send at the deadline (empty when none)
     */
    public List<String> close(final long deadlineNanos) {
        return gate.close(deadlineNanos);
    }

    /** Refuses new sends without waiting (a core cannot wait for itself). */
    public void closeFromCore() {
        gate.closeFromCore();
    }
}
