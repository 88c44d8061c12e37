package org.ipi4j.apic;

import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.time.Timeline;
import org.jctools.queues.MessagePassingQueue;

/**
 * The machine's interrupt controller: the interrupt descriptor table (IDT) and the "interrupt
 * command register" every core, or any other thread, writes to send an IPI. A send is validated
 * here (the vector has a handler and is not an exception, the cores exist) and then handed, target
 * by target, to that core's {@link CpuPort}, which does the rest in one file: enter the closing
 * protocol, offer the payload, raise the pending bit, wake the core; and on the core, accept,
 * handler, EOI. The sender never waits for the handler. Everything the sending thread did before
 * {@code send} happens-before the handler entry that receives its payload, and the one that
 * clears the bit it set.
 *
 * <h2>Closing protocol</h2>
 * {@link #close} must not return while a sender is between its closed check and its raise, or
 * that sender's payload could land after the machine collected what was left: every send goes
 * through the machine's {@link SendGate}, which says how.
 *
 * <h2>Bad input</h2>
 * A core id outside the machine, an exception vector (0–31) or a vector with no handler gives
 * {@link IllegalArgumentException} before anything is queued; a closing machine gives
 * {@link MachineClosedException} (nothing was queued); a full mailbox is handled by the
 * {@link OverflowPolicy}. Thread-safe: any thread may send; registration is serialised.
 */
public final class InterruptController {
    /** What the controller needs from the machine that owns it. */
    @InternalApi
    public interface Host {
        /** {@return the id of the core running the calling thread, or -1 if it is not a core of this machine} */
        int currentCpu();

        /**
         * A handler threw on {@code cpu}; {@code payloads} is a copy of what it had received.
         * @param cpu the core's id, 0 to the machine's core count - 1
         * @param vector the interrupt vector
         * @param error what the handler threw
         * @param payloads the payloads the handler was given
         */
        void handlerFailed(int cpu, Vector vector, Throwable error, List<Object> payloads);
    }

    /** Targets one paravirtual send-IPI hypercall carries (KVM's bitmap: 128 APIC ids). */
    public static final int PV_SEND_IPI_BATCH = 128;

    private final ControllerConfig config;
    private final Host host;
    private final Timeline timeline;
    private final CpuPort[] ports;
    private final Idt idt = new Idt();
    /** The closing protocol: every send enters it, checks it is open, and leaves it after its raise. */
    private final SendGate gate;
    /** The multicast loop and the VM-exit count. */
    private final Multicast multicast;

    /**
     * A controller and its ports, built as {@code config} says (applications use {@code machine.interrupts()}).
     *
     * @param config the cores, their idle policy, mailboxes, delivery mode and instrumentation
     * @param host the machine's callbacks into the cores
     * @param timeline the machine's time, parking and cost model (the host's, or a simulation's)
     */
    @InternalApi
    public InterruptController(final ControllerConfig config, final Host host, final Timeline timeline) {
        this.config = Objects.requireNonNull(config, "config");
        this.host = Objects.requireNonNull(host, "host");
        this.timeline = Objects.requireNonNull(timeline, "timeline");
        this.ports = new CpuPort[config.cores()];
        // Every send adds to the VM-exit count: a JCTools padded count, on a line of its own (allocated
        // unpadded after the ports, it shared a line with what a spinning core reads: ipi-spin
        // round trip p50 ~600 ns instead of ~170).
        this.multicast = new Multicast(config, ports);
        final int stripes = Math.min(256, Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 8));
        this.gate = new SendGate(config.name(), config.cores(), stripes, timeline);
        CpuPort.build(ports, config, idt, host, gate, timeline);
        // Waking an idle core for new work needs no handler: its run loop looks at its queue after every interrupt.
        register(Vector.RESCHEDULE, irq -> { });
    }

    // ---- per-core parts (for the machine's cores) -----------------------------------------

    /** {@return the machine's time, parking and cost model} */
    public Timeline timeline() {
        return timeline;
    }

    /** {@return the injected faults, or null} */
    public FaultInjector faults() {
        return config.faults();
    }

    /**
     * {@return core {@code cpu}'s end of the delivery path: its APIC, idle loop, registers and vCPU}
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    @InternalApi
    public CpuPort port(final int cpu) {
        return ports[checkCpu(cpu)];
    }

    /**
     * {@return core {@code cpu}'s pending bits and mailboxes: {@code port(cpu).apic()}}
     * @param cpu the core's id, 0 to the machine's core count - 1
     */
    public LocalApic apic(final int cpu) {
        return port(cpu).apic();
    }

    /**
     * {@return emulated VM exits for sending IPIs so far} A unicast is one exit (a trapped ICR
     * write); a multicast or a batch of doorbells one per target, or with paravirtual send-IPI one
     * hypercall per {@link #PV_SEND_IPI_BATCH} targets.
     */
    public long vmExits() {
        return multicast.vmExits();
    }

    /** {@return the delivery mode: per-vector signalling or posted interrupts} */
    public DeliveryMode deliveryMode() {
        return config.deliveryMode();
    }

    /** {@return true if IPIs to several cores are counted as paravirtual send-IPI hypercalls} */
    public boolean pvSendIpi() {
        return config.pvSendIpi();
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
        idt.register(vector, handler, ports, config.mailboxCapacity()); // the handler last: see Idt
    }

    /**
     * {@return true if {@code vector} has a handler}
     *
     * @param vector the interrupt vector
     */
    public boolean isRegistered(final Vector vector) {
        return idt.isRegistered(vector);
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
        idt.onException(vector, handler);
    }

    /**
     * {@return what a core does with exception {@code vector}: the installed handler, or KILL}
     *
     * @param vector the interrupt vector
     */
    public ExceptionHandler exceptionHandler(final Vector vector) {
        return idt.exceptionHandler(vector);
    }

    // ---- sending --------------------------------------------------------------------------

    /** {@return number of cores a destination may name} */
    public int cpuCount() {
        return ports.length;
    }

    /**
     * Checks that core {@code cpu} exists.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @return {@code cpu}
     * @throws IllegalArgumentException naming the core and the machine's range
     */
    public int checkCpu(final int cpu) {
        if (cpu < 0 || cpu >= ports.length) {
            throw new IllegalArgumentException("core " + cpu + " does not exist: the machine has "
                + ports.length + " cores (0-" + (ports.length - 1) + ")");
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
        idt.checkSendable(vector);
        checkCpu(cpu);
        multicast.countExits(1);
        final int self = host.currentCpu();
        if (!ports[cpu].deliver(vector.number(), payload, self, true)) {
            throw multicast.full(CpuSet.of(cpu), vector, self);
        }
    }

    /**
     * Like {@link #send(int, Vector, Object)}, but never waits and never throws for a full mailbox,
     * whatever the {@link OverflowPolicy}: the payload is queued and raised, or nothing happens.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @return false if the mailbox was full (nothing was queued)
     */
    public boolean trySend(final int cpu, final Vector vector, final Object payload) {
        idt.checkSendable(vector);
        checkCpu(cpu);
        multicast.countExits(1);
        return ports[cpu].deliver(vector.number(), payload, host.currentCpu(), false);
    }

    /**
     * Rings {@code vector} without payload on each of the first {@code count} cores in
     * {@code cpus} (a cross-core call's flat broadcast), all checked first; one batch for
     * {@link #vmExits()}. A core the closing machine refuses is handed to {@code unreachable}
     * (nothing was sent to it); the others still get their doorbell. Allocates nothing.
     *
     * @param cpus the target cores (ids are checked)
     * @param count how many of them
     * @param vector the interrupt vector
     * @param unreachable told each core the machine refused because it is closing
     */
    @InternalApi
    public void sendDoorbells(final int[] cpus, final int count, final Vector vector, final IntConsumer unreachable) {
        Objects.requireNonNull(cpus, "cpus");
        Objects.requireNonNull(unreachable, "unreachable");
        if (count < 0 || count > cpus.length) {
            throw new IllegalArgumentException("count must be 0 to cpus.length (" + cpus.length + "), not " + count);
        }
        idt.checkSendable(vector);
        for (int i = 0; i < count; i++) {
            checkCpu(cpus[i]);
        }
        multicast.doorbells(cpus, count, vector.number(), host.currentCpu(), unreachable);
    }

    /**
     * Multicast: sends to every core in {@code cpus}, lowest first, all checked first. If some
     * mailboxes stay full, the others still get the payload and the exception names the full ones.
     *
     * @param cpus the target cores
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     * @throws MachineClosedException if the machine is closed; if it closed midway (a BLOCK wait),
     *         {@link MachineClosedException#delivered()} names the targets that got the payload
     */
    public void send(final CpuSet cpus, final Vector vector, final Object payload) {
        Objects.requireNonNull(cpus, "cpus");
        idt.checkSendable(vector);
        checkCpus(cpus);
        multicast.send(cpus, -1, vector, payload, host.currentCpu());
    }

    /**
     * Sends to a shorthand destination resolved against the calling core.
     * {@link Shorthand#SELF} from a thread that is not a core gives {@link IllegalStateException}.
     *
     * @param shorthand the destination shorthand, resolved against the sending core
     * @param vector the interrupt vector
     * @param payload the payload, or null for a doorbell without one
     */
    public void send(final Shorthand shorthand, final Vector vector, final Object payload) {
        Objects.requireNonNull(shorthand, "shorthand");
        idt.checkSendable(vector);
        multicast.send(shorthand, vector, payload, host.currentCpu());
    }

    /**
     * Sends {@code vector} to core {@code cpu} again without a payload and wakes the core if it is
     * parked even when the vector was already pending: a watchdog's re-send, for a core that may
     * have missed its wake-up.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param vector the interrupt vector
     */
    @InternalApi
    public void resend(final int cpu, final Vector vector) {
        idt.checkSendable(vector);
        checkCpu(cpu);
        multicast.countExits(1);
        ports[cpu].resend(vector.number(), host.currentCpu());
    }

    /**
     * Queues {@code item} on {@code queue}, which core {@code cpu}'s run loop polls, under the
     * same closing protocol as a send, then wakes the core with a {@link Vector#RESCHEDULE} IPI
     * if it is parked (elided if it runs or polls): {@link CpuPort}'s post. The queue's offer must
     * be a volatile read-modify-write (JCTools' MPSC queues' is).
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param <E> the item type
     * @param queue the core's queue
     * @param item the item to queue
     * @throws MachineClosedException if the machine is closing (nothing was queued)
     */
    @InternalApi
    public <E> void post(final int cpu, final MessagePassingQueue<E> queue, final E item) {
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(item, "item");
        checkCpu(cpu);
        ports[cpu].post(queue, item, host.currentCpu());
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
     * until the deadline: {@link SendGate#close}. A sender blocked on a full mailbox sees the close
     * and leaves; a core whose BLOCK back-off took a handler that never returns is named instead.
     *
     * @param deadlineNanos when to stop waiting, on {@link System#nanoTime()}'s clock
     * @return the senders still inside a send at the deadline (empty when none)
     */
    @InternalApi
    public List<String> close(final long deadlineNanos) {
        return gate.close(deadlineNanos);
    }

    /** Refuses new sends without waiting (a core cannot wait for itself). */
    @InternalApi
    public void closeFromCore() {
        gate.closeFromCore();
    }
}
