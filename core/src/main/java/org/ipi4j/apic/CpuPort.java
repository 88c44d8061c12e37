package org.ipi4j.apic;

import java.util.List;
import java.util.Objects;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.time.Timeline;
import org.jctools.queues.MessagePassingQueue;

/**
 * One core's end of the delivery path, both halves top to bottom in one file, as Linux's
 * {@code generic_exec_single()} sits above the interrupt handler that drains its queue, and the
 * Disruptor's {@code WaitStrategy} holds {@code waitFor} and {@code signalAllWhenBlocking}:
 * <pre>
 *   a sender (any thread)                       this core (its own thread)
 *   enter the closing protocol, check open      an instruction boundary: highest pending vector
 *   offer the payload to the vector's mailbox   accept: drain, clear the bit, drain again
 *   raise the pending bit (volatile RMW)        save the frame; KERNEL, interrupts off
 *   newly set? notify: wake the idle loop       run the IDT's handler
 *   leave the closing protocol                  EOI: restore the frame exactly
 * </pre>
 * The port owns the core's {@link LocalApic} (pending bits and mailboxes), {@link IdleLoop} (the
 * wait/wake handshake), {@link CpuContext} (registers and counters) and {@link Vcpu} (preemption
 * by the host). {@link InterruptController} validates a send and picks the port; whatever then
 * happens to the target happens here. Instrumentation (JFR, timing, faults, a simulation's costs)
 * is one {@link DeliveryProbe} call per site.
 *
 * <h2>Happens-before</h2>
 * Everything a sender did before its send happens-before the handler entry that receives its
 * payload (release store of the element, acquire poll in {@link LocalApic#accept}), and before
 * the entry that clears the pending bit it set (its raise, then the clearing RMW). So a handler
 * sees every write its sender made before sending, payload or not.
 *
 * <p>Thread-safety: the sending half runs on any thread, a core passing its own id as
 * {@code self} only on its own thread; the receiving half only on this core's thread. The port
 * has final fields only: every sender reads it, so the core writes nothing here (its registers
 * live in its {@link CpuContext}).
 */
@InternalApi
public final class CpuPort {
    private final int cpu;
    /** Every core's port, this one included: a sender's own is {@code ports[self]}. */
    private final CpuPort[] ports;
    private final Idt idt;
    /** Told when a handler throws. */
    private final InterruptController.Host host;
    /** The machine's closing protocol. */
    private final SendGate gate;
    private final DeliveryProbe probe;
    private final Timeline timeline;
    private final LocalApic apic;
    private final IdleLoop idle;
    private final CpuContext context;
    private final Vcpu vcpu;
    /** The view handed to the outermost handler, reused for every entry. */
    private final InterruptView view;
    /** {@link DeliveryMode#POSTED}: a new bit notifies only if it sets the core's ON bit. */
    private final boolean posted;
    private final OverflowPolicy overflowPolicy;
    private final long blockTimeoutNanos;

    private CpuPort(final int cpu, final ControllerConfig config, final long pollRounds, final CpuPort[] ports,
                    final Idt idt, final InterruptController.Host host, final SendGate gate, final DeliveryProbe probe,
                    final Timeline timeline) {
        this.cpu = cpu;
        this.ports = ports;
        this.idt = idt;
        this.host = host;
        this.gate = gate;
        this.probe = probe;
        this.timeline = Objects.requireNonNull(timeline, "timeline");
        this.posted = config.deliveryMode() == DeliveryMode.POSTED;
        this.overflowPolicy = config.overflowPolicy();
        this.blockTimeoutNanos = config.blockTimeoutNanos();
        this.apic = new LocalApic(cpu, config.deliveryMode());
        this.idle = new IdleLoop(config.idlePolicy(), cpu, pollRounds, probe, timeline);
        this.context = new CpuContext(cpu, apic, probe);
        this.view = new InterruptView(cpu);
        this.vcpu = new Vcpu(cpu, timeline);
    }

    /**
     * Fills {@code ports} with one port per core of {@code config}, their policies decided here
     * once: the only place the delivery path asks whether it runs in a simulation.
     */
    static void build(final CpuPort[] ports, final ControllerConfig config, final Idt idt,
                      final InterruptController.Host host, final SendGate gate, final Timeline timeline) {
        final boolean simulated = timeline.simulated();
        // JFR alone on the host; faults, timing and a simulation's costs and interleavings otherwise.
        final DeliveryProbe probe = simulated || config.faults() != null || config.timeHandlers()
            ? DeliveryProbe.instrumented(timeline, config.faults(), config.timeHandlers()) : DeliveryProbe.HOST;
        // A simulation parks at once: its wake-up latency stands for noticing, so polling in
        // virtual time would only cost switches.
        final long pollRounds = simulated ? 0 : config.idlePolicy().pollRoundsBeforePark();
        for (int i = 0; i < ports.length; i++) {
            ports[i] = new CpuPort(i, config, pollRounds, ports, idt, host, gate, probe, timeline);
        }
    }

    /** {@return the core's id} */
    public int cpu() {
        return cpu;
    }

    /** {@return the core's pending bits and mailboxes} */
    public LocalApic apic() {
        return apic;
    }

    /** {@return the core's idle loop} */
    public IdleLoop idle() {
        return idle;
    }

    /** {@return the core's registers and counters} */
    public CpuContext context() {
        return context;
    }

    /** {@return the core's virtual-CPU state: preemption by the host, PV flush} */
    public Vcpu vcpu() {
        return vcpu;
    }

    // =====================================================================================
    // Sending half: any thread. "self" is the sending core, or -1 for a thread that is not one.
    // =====================================================================================

    /**
     * A send to this core, after the controller validated it: enter the closing protocol and
     * refuse if closed, offer the payload, raise, wake. A payload send raises with
     * {@link LocalApic#raiseAfterOffer} (the payload carries the happens-before edge); a doorbell
     * always writes the bit.
     *
     * @param mayBlock false: never wait for room, whatever the overflow policy (trySend, doorbells)
     * @return false if the payload did not fit (nothing was queued)
     * @throws MachineClosedException if the machine is closing (nothing was queued)
     */
    boolean deliver(final int v, final Object payload, final int self, final boolean mayBlock) {
        gate.enter(self); // then the closed check: see SendGate
        try {
            gate.checkOpen();
            probe.interleave(); // past the closed check, not yet raised: close() must wait for us
            if (payload == null) {
                raise(v, self);
            } else if (enqueue(v, payload, self, mayBlock)) {
                raiseAfterOffer(v, self);
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

    /** Offers {@code payload}; on a full mailbox under {@link OverflowPolicy#BLOCK}, backs off until there is room. */
    private boolean enqueue(final int v, final Object payload, final int self, final boolean mayBlock) {
        if (apic.offer(v, payload)) {
            return true;
        }
        if (!mayBlock || overflowPolicy == OverflowPolicy.FAIL || cpu == self) {
            return false;
        }
        // BLOCK: make sure the target knows there is something to drain, then back off.
        if (notifies(apic.raise(v))) {
            idle.wake();
        }
        final CpuPort own = self >= 0 ? ports[self] : null;
        final long deadline = timeline.nanoTime() + blockTimeoutNanos;
        int spins = 0;
        do {
            if (own != null) {
                own.deliverPending(own.context.epc()); // keep draining our own mailboxes: no mutual deadlock
                own.context.sendBackoffs.increment(); // progress for the stall watch: waiting for room is no stall
            }
            if (++spins < 100) {
                timeline.spinWait();
            } else {
                timeline.yieldCpu();
            }
            // Right before every offer, after whatever the handlers above ran (for as long as they
            // took): a machine that closed meanwhile refuses us, and nothing was queued. The closer
            // waits for our send depth only for the instant between this check and the offer.
            gate.checkOpen();
            if (timeline.nanoTime() - deadline > 0) {
                return false;
            }
            probe.interleave(); // past the closed check after our own handlers ran: close() must still wait for us
        } while (!apic.offer(v, payload));
        return true;
    }

    /** Raise the pending bit (a volatile RMW, releasing everything before it), wake if newly set. */
    private void raise(final int v, final int self) {
        probe.raising(apic, v);
        final boolean raised = apic.raise(v);
        signal(v, raised, notifies(raised), self);
    }

    /** {@link #raise} for a payload already in the mailbox: a bit found set is not written again. */
    private void raiseAfterOffer(final int v, final int self) {
        probe.raising(apic, v);
        final boolean raised = apic.raiseAfterOffer(v);
        signal(v, raised, notifies(raised), self);
    }

    /**
     * Whether a send that {@code raised} (set its bit from 0 to 1) or coalesced must signal the
     * core: per vector, every new bit does; posted, only the send that sets ON (a bit found set was
     * covered by its setter either way). ON is a volatile RMW after the bit's; partner: the core's
     * clearing of ON in {@link LocalApic#anyPending()}, then its reads of the bits.
     */
    private boolean notifies(final boolean raised) {
        return raised && (!posted || apic.postNotification());
    }

    /**
     * After a raise: wakes the core if asked ({@link IdleLoop#wake()}'s volatile read of the
     * parked word follows our RMW of the bit; partner: {@link IdleLoop#prepareToPark}'s store of
     * it, then its re-check of the bits), and counts the send on the sending core.
     */
    private void signal(final int v, final boolean raised, final boolean notify, final int self) {
        final boolean woke = notify && idle.wake();
        if (self >= 0) {
            ports[self].context.sent.increment();
        }
        probe.sent(self, cpu, v, raised, woke);
    }

    /**
     * Raises {@code v} again without a payload and wakes the core if it is parked even when the
     * bit was already set: a watchdog's re-send, for a core that may have missed its wake-up.
     *
     * @throws MachineClosedException if the machine is closing (nothing was raised)
     */
    void resend(final int v, final int self) {
        gate.enter(self); // then the closed check: see SendGate
        try {
            gate.checkOpen();
            probe.raising(apic, v);
            apic.raise(v);
            signal(v, true, true, self); // wake unconditionally: the bit may be set with nobody left to wake us
        } catch (MachineClosedException e) {
            gate.refused(self);
            throw e;
        } finally {
            gate.exit(self);
        }
    }

    /**
     * Queues {@code item} on {@code queue}, which this core's run loop polls, then raises
     * {@link Vector#RESCHEDULE} if the core is parked; a running or polling core finds the item
     * by itself. The offer must be a volatile read-modify-write (JCTools' MPSC queues' is).
     *
     * @throws MachineClosedException if the machine is closing (nothing was queued)
     */
    <E> void post(final MessagePassingQueue<E> queue, final E item, final int self) {
        gate.enter(self); // then the closed check: see SendGate
        try {
            gate.checkOpen();
            queue.offer(item);
            // Volatile load after the offer's RMW; partner: prepareToPark's store of the parked
            // word, then the core's re-check of its queue.
            if (idle.isParked()) {
                raise(Vector.RESCHEDULE.number(), self);
            } else {
                idle.elided.getAndIncrement();
            }
        } catch (MachineClosedException e) {
            gate.refused(self);
            throw e;
        } finally {
            gate.exit(self);
        }
    }

    // =====================================================================================
    // Receiving half: this core's own thread only.
    // =====================================================================================

    /** {@return true if an interrupt would be taken at a boundary now} Owner only. */
    public boolean deliverable() {
        // anyPending first, always: in posted mode it is also the look that clears ON (the idle
        // handshake's re-check); the priority test comes after it.
        return context.interruptsEnabled && apic.anyPending()
            && (context.inService < 0 || outranksInService(apic.highestPending()));
    }

    /**
     * An instruction boundary: while interrupts are enabled and a vector is pending, takes it,
     * highest first; inside a handler, only vectors of a higher priority class than the one in
     * service (see {@link #outranksInService}). {@code resumeAt} is the EPC saved in the frames.
     * Owner only.
     *
     * @param resumeAt the EPC the interrupted code resumes at
     */
    public void deliverPending(final long resumeAt) {
        int v;
        // Acquire loads of the bits; partner: the senders' raise. Seeing a bit is seeing its sender's writes.
        while (context.interruptsEnabled && (v = apic.highestPending()) >= 0 && outranksInService(v)) {
            take(v, resumeAt);
        }
    }

    /**
     * As a local APIC's processor priority: inside a handler, only a vector of a higher priority
     * class than the one in service is taken (after the handler re-enabled interrupts); the others
     * wait for its EOI. So a vector never nests inside itself: a handler that re-enables
     * interrupts is not re-entered by its own vector, whose per-core state (SmpCall's published
     * list, say) it still owns.
     */
    private boolean outranksInService(final int v) {
        final int inService = context.inService;
        return v >= 0 && (inService < 0 || (v >>> 4) > (inService >>> 4));
    }

    /**
     * One interrupt entry: accept {@code v} from the APIC (drain, clear the bit, drain again), save
     * the trap frame, enter {@code KERNEL} mode with interrupts disabled, run
     * the IDT's handler, and on return (EOI) restore the frame exactly, whatever the handler did.
     * A handler that throws is the host's to record; the core goes on.
     */
    private void take(final int v, final long resumeAt) {
        final CpuContext c = context;
        final InterruptView entry = c.depth == 0 ? view : new InterruptView(cpu); // nested: must not clobber the outer view
        probe.taking(entry, apic, v);
        final int n = apic.accept(v, entry.sink);
        final Vector vector = Vector.of(v);
        entry.enter(vector, resumeAt, c.mode, c.interruptsEnabled);
        final int outer = c.inService;
        c.enterHandler(v);
        final InterruptHandler handler = idt.handler(v);
        probe.entered(entry);
        try {
            probe.inHandler(cpu, v);
            handler.handle(entry);
        } catch (Throwable t) {
            c.handlerFailures.increment();
            host.handlerFailed(cpu, vector, t, List.copyOf(entry.buffer));
        }
        probe.returned(c, entry, n);
        c.depth--;
        c.received.increment();
        c.payloads.add(n);
        // EOI and return from interrupt: restore the frame exactly, whatever the handler did.
        c.returnFromInterrupt(outer, entry.previousMode, entry.previousIf);
        entry.buffer.clear();
    }
}
