package org.ipi4j.smp;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

import org.ipi4j.Machine;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.time.Timeline;

/**
 * The {@link Vector#CALL_FUNCTION} protocol of one machine, both halves in one file: how an armed
 * call's descriptors reach their targets' {@link CallQueue}s and rings, how each target's handler
 * drains its queue and runs them, and how a descriptor that can no longer be run is given up.
 *
 * <h2>Sending</h2>
 * The caller pushes a descriptor and sends the IPI only if the target's queue was empty (or its
 * CALL_FUNCTION bit is no longer pending, see {@link #mustRing}); the others coalesce, since the
 * handler takes the whole queue. The call's {@link Shape} chooses whom the initiator queues the call
 * on and whom each target passes it to; this class does the queueing.
 *
 * <h2>Receiving</h2>
 * {@link #onCallFunction} takes the whole queue, then claims each descriptor before running it
 * ({@link CallDescriptor#start}), publishes what it holds and what it runs so that shutdown can
 * still reach them ({@link CallQueue#hold}, {@link CallQueue#running}), and acknowledges.
 *
 * <h2>Giving up</h2>
 * A descriptor is answered exactly once, by whoever claims it: the target that runs it, or a party
 * that gives it up (the machine closed before the target could be reached, or shutdown found it
 * queued or held by a stuck core). A given-up target's own targets are given up with it, before it
 * is answered: after the last answer the call may be reused.
 *
 * <p>Thread-safe: any caller sends, each core's handler receives on its own queue, shutdown gives
 * up from its own thread.
 *
 * <h2>Layout</h2>
 * Both sides read this object on every call (the queues, the clock), and every caller bumps a
 * counter on every call. The fields both read sit between 128 bytes of padding
 * ({@link CallDeliveryFields}, padding by inheritance: the JVM lays out a superclass's fields
 * first), so that the counters, allocated right after this object, never share their line: when
 * they did, a waited call to a spinning core (RoundTripBench call-spin) took about 125 ns more at
 * the median, one more transfer of the line per round trip.
 */
final class CallDelivery extends CallDeliveryPadAfter {
    // Caller side only on the hot path (a target reads them only to pass a call on): next to
    // the counters, which are allocated right after this object.
    private final LongAdder ipisSent = new LongAdder();
    private final LongAdder ipisCoalesced = new LongAdder();
    /** A ring the closing machine refused: nothing is coming for that queue, take it back. */
    private final IntConsumer unreachable = this::unreachable;

    CallDelivery(final Machine machine) {
        super(machine);
    }

    /** {@return call-function IPIs sent (a target's queue was idle, or a re-send)} */
    long ipisSent() {
        return ipisSent.sum();
    }

    /** {@return descriptors queued behind others without an IPI of their own} */
    long ipisCoalesced() {
        return ipisCoalesced.sum();
    }

    /** {@return where the machine's cores sit, for the {@link Broadcast#topology()} shape} */
    Topology topology() {
        return topology;
    }

    // =====================================================================================
    // Sending
    // =====================================================================================

    /** Sends an armed call with remote targets: its shape's first hops. */
    void send(final Call call) {
        call.broadcast.shape.start(this, call);
    }

    /**
     * A flat broadcast: queues the call on every remote target, then rings the ones whose queue
     * was empty in one batch (one PV send-IPI hypercall per 128 of them, see
     * {@link org.ipi4j.Paravirt#SEND_IPI}).
     */
    void ringAll(final Call call) {
        int n = 0;
        for (int i = 0; i < call.remoteCount; i++) {
            if (machine.isClosed()) {
                giveUpFrom(call, i, new MachineClosedException("machine " + machine.name() + " is closed"));
                continue;
            }
            final CallDescriptor d = call.descriptors[i];
            d.level = 1;
            if (mustRing(call.targets[i], queues[call.targets[i]].push(d))) {
                call.ring[n++] = call.targets[i];
            } else {
                ipisCoalesced.increment();
            }
        }
        if (n > 0) {
            ipisSent.add(n); // less those the closing machine refuses (unreachable)
            machine.interrupts().sendDoorbells(call.ring, n, Vector.CALL_FUNCTION, unreachable);
        }
    }

    private void unreachable(final int cpu) {
        ipisSent.decrement();
        takeBack(cpu, new MachineClosedException("machine " + machine.name() + " is closed"));
    }

    /** Queues target {@code index} of {@code call}; gives it (and whoever it would pass the call to) up if the machine is closed. */
    void enqueue(final Call call, final int index, final int level) {
        final int cpu = call.targets[index];
        if (machine.isClosed()) {
            giveUpFrom(call, index, new MachineClosedException("machine " + machine.name() + " is closed"));
            return;
        }
        final CallDescriptor d = call.descriptors[index];
        d.level = level;
        if (mustRing(cpu, queues[cpu].push(d))) {
            // Counted before the IPI, as ringAll counts: whoever sees the call run (its function
            // included) sees it counted; a ring the closing machine refuses is taken back.
            ipisSent.increment();
            try {
                machine.interrupts().send(cpu, Vector.CALL_FUNCTION, null);
            } catch (MachineClosedException e) {
                ipisSent.decrement();
                takeBack(cpu, e);
            }
        } else {
            ipisCoalesced.increment();
        }
    }

    /**
     * Whether a push must send the call-function IPI: when it found the queue empty (the queue's
     * rule), and also when it did not but the target's CALL_FUNCTION bit is no longer pending.
     * Then the entry that covers the queue has begun: either its handler is about to take the
     * list (ours too, and the extra IPI finds it empty) or the entry failed before the handler
     * ran (an injected handler failure): nothing would take the queue again, and every call in
     * it would wait for the watchdog, or, async, forever. Partner: the handler's accept clears
     * the bit before it takes the list; we push (a CAS), then read the bit (acquire).
     */
    private boolean mustRing(final int cpu, final boolean wasEmpty) {
        return wasEmpty || !machine.interrupts().apic(cpu).pending(Vector.CALL_FUNCTION.number());
    }

    // =====================================================================================
    // Receiving (interrupt context on the target)
    // =====================================================================================

    /** The CALL_FUNCTION handler: takes the core's whole queue and runs each call it claims. */
    void onCallFunction(final Interrupt irq) {
        final int cpu = irq.cpu();
        final CallQueue q = queues[cpu];
        CallQueue.Node next = q.takeAll();
        timeline.interleave(); // the calls are taken off the queue, not yet run: a caller may queue more, or re-send
        while (next != null) {
            final CallDescriptor d = (CallDescriptor) next;
            next = d.next(); // before the claim: once d is answered, its caller may push it again
            q.hold(next); // the rest stays reachable by shutdown while we run d (partner: the shutdown hook's CallDescriptor.claimHeld)
            if (!d.start()) {
                continue; // answered already (shutdown gave it up): it must never run
            }
            q.running(d);
            final Call call = d.call();
            if (call.timed) {
                d.startedAt = timeline.nanoTime(); // for a deadline's report: how long it has been running
            }
            final int index = d.index();
            final int level = d.level;
            final Shape shape = call.broadcast.shape;
            shape.forward(this, call, index, level); // before running: the targets below work while we do
            final Throwable failure = call.invoke(cpu);
            shape.passOn(this, call, index, level); // before our acknowledgement: after it the call may be reused
            q.running(null);
            call.acknowledge(d, failure);
        }
    }

    // =====================================================================================
    // Giving up (the machine is closing)
    // =====================================================================================

    /**
     * The IPI for a queue we found empty could not be sent (the machine is closing): whatever is
     * in that queue now is covered by no IPI. Take it all back and give each call up. A
     * descriptor the target's handler already took is not in the list, so it is answered once,
     * by whichever of us has it (taking a whole list is safe with several takers).
     */
    private void takeBack(final int cpu, final RuntimeException why) {
        CallQueue.Node n = queues[cpu].takeAll();
        while (n != null) {
            final CallDescriptor d = (CallDescriptor) n;
            n = d.next();
            giveUpFrom(d.call(), d.index(), why);
        }
    }

    /**
     * At shutdown: calls still queued on a core, or taken by a core that is stuck inside an
     * earlier call of the same list, will never run there. Answer each "closed", so that every
     * future completes and every waiting caller returns; the claim in each descriptor makes sure
     * a core that comes back later skips them instead of running them. A serial call stuck on a
     * core never reaches the targets after it: they are answered too.
     */
    void failUnanswered() {
        final MachineClosedException why = new MachineClosedException("machine " + machine.name()
            + " shut down before the core ran the call");
        for (int cpu = 0; cpu < cores; cpu++) {
            takeBack(cpu, why);
            failHeld(queues[cpu], why);
            final CallDescriptor stuck = (CallDescriptor) queues[cpu].running();
            if (stuck != null && stuck.running()) {
                final Call call = stuck.call(); // not reusable while this share is unanswered
                call.broadcast.shape.giveUpStrandedBy(this, call, stuck.index(), why);
            }
        }
    }

    /** Answers every descriptor the consumer of {@code q} took but has not started (see CallDescriptor.claimHeld). */
    private void failHeld(final CallQueue q, final RuntimeException why) {
        CallDescriptor.claimHeld(q, d -> answered(d.call(), d.index(), why));
    }

    /** Gives up target {@code index} (if no one claimed it first) and every target it would have reached. */
    void giveUpFrom(final Call call, final int index, final RuntimeException why) {
        if (call.descriptors[index].claimForGiveUp()) {
            answered(call, index, why);
        }
    }

    /**
     * Answers target {@code index}, which the caller claimed, with {@code why}, and gives up first
     * the targets it would have passed the call to (it never will): they are answered before it,
     * since after the last answer the call may be reused.
     */
    private void answered(final Call call, final int index, final RuntimeException why) {
        call.broadcast.shape.giveUpBelow(this, call, index, why);
        call.acknowledge(call.descriptors[index], why);
    }
}

/** 128 bytes before {@link CallDeliveryFields}, as SendGate pads its slots. */
abstract class CallDeliveryPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** What a caller and a target both read on every call: final after construction. */
abstract class CallDeliveryFields extends CallDeliveryPadBefore {
    final Machine machine;
    final int cores;
    final CallQueue[] queues;
    /** The machine's clock and interleaving points (the host's, or a simulation's). */
    final Timeline timeline;
    /** Where cores sit, for the {@link Broadcast#topology()} shape. */
    final Topology topology;

    CallDeliveryFields(final Machine machine) {
        this.machine = machine;
        this.cores = machine.coreCount();
        this.queues = new CallQueue[cores];
        for (int i = 0; i < cores; i++) {
            queues[i] = new CallQueue();
        }
        this.timeline = machine.timeline();
        this.topology = machine.topology();
    }
}

/** 128 bytes after {@link CallDeliveryFields}: whatever is allocated next stays off their line. */
abstract class CallDeliveryPadAfter extends CallDeliveryFields {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

    CallDeliveryPadAfter(final Machine machine) {
        super(machine);
    }
}
