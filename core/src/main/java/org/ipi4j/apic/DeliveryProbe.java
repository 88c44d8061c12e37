package org.ipi4j.apic;

import java.util.Objects;

import org.ipi4j.observability.InterruptHandledEvent;
import org.ipi4j.observability.InterruptSentEvent;
import org.ipi4j.time.Timeline;

/**
 * Everything the delivery path does besides delivering, reached through one call per site (as
 * Linux writes {@code trace_tlb_flush(reason, 0)}): JFR events, handler timing, the interrupts-off
 * measurement, injected faults, and a simulation's costs and interleaving points. Which probe a
 * machine uses is decided once, when {@link InterruptController} builds its ports: this class is
 * the host's default and does only what a JFR recording asks for (each event's own enabled check)
 * plus the one clock read {@link CpuContext#lastInterruptsEnabledAt()} needs;
 * {@link #instrumented} adds the rest. So each site is one call through a final field whose class
 * is the same for every core of the machine, and no site tests a flag of its own.
 *
 * <h2>The interrupts-off clock</h2>
 * Disabling interrupts reads no clock here. Re-enabling reads it only when an interrupt is
 * waiting, that is when the re-enable ends a delivery delay, which is what a consumer of
 * {@code lastInterruptsEnabledAt} (the MMU's irq-off share of a shootdown's delivery) measures.
 * With handler timing on ({@code Machine.Builder.timeHandlers}), every disable and re-enable reads
 * the clock, for {@link CpuContext#interruptsOffSince()} and
 * {@link CpuContext#maxInterruptsOffNanos()}.
 *
 * <p>Thread-safety: no state but final fields. The sender sites run on any thread; the receiver
 * and interrupt-flag sites on the owning core, and write only that core's {@link CpuContext} and
 * {@link InterruptView}.
 */
class DeliveryProbe {
    /** On the host, with no timing and no faults: JFR only (its clock is {@link System#nanoTime()}). */
    static final DeliveryProbe HOST = new DeliveryProbe();

    DeliveryProbe() {
    }

    /**
     * {@return a probe that also times handlers and interrupts-off stretches (if {@code timed}),
     * injects {@code faults} (if not null), and charges {@code timeline}'s costs and interleaving
     * points (nothing on the host's timeline)}
     */
    static DeliveryProbe instrumented(final Timeline timeline, final FaultInjector faults, final boolean timed) {
        return new Instrumented(timeline, faults, timed);
    }

    // ---- sender sites (any thread) ------------------------------------------------------------

    /**
     * A point where another core's step may come between the caller's accesses: past a sender's
     * closed check, between two steps of the idle handshake. A simulation may switch cores here.
     */
    void interleave() {
    }

    /**
     * Just before the raise that publishes a send to {@code target}: the send's time for the JFR
     * InterruptHandled event (published by that raise), and a simulation's price of the ICR write.
     */
    void raising(final LocalApic target, final int v) {
        if (InterruptHandledEvent.isRecorded()) {
            target.stampRaise(v, System.nanoTime());
        }
    }

    /** After the send's wake decision: the JFR InterruptSent event. */
    void sent(final int self, final int cpu, final int v, final boolean raised, final boolean woke) {
        InterruptSentEvent.emit(self, cpu, v, !raised, woke);
    }

    /** A waker about to unpark parked core {@code cpu}: true loses this wake-up (an injected fault). */
    boolean dropWakeup(final int cpu) {
        return false;
    }

    // ---- receiver sites (the owning core) -----------------------------------------------------

    /** Core {@code entry.cpu} is about to accept {@code v}, before the mailbox is drained. */
    void taking(final InterruptView entry, final LocalApic apic, final int v) {
        final InterruptHandledEvent jfr = InterruptHandledEvent.startIfEnabled(); // null unless recorded
        entry.jfr = jfr;
        // Read before accept clears the bit: after that, a new send may stamp its own time.
        entry.raisedAt = jfr != null ? apic.raisedAt(v) : 0L;
    }

    /** The frame is saved and the core is in the handler's context; the handler runs next. */
    void entered(final InterruptView entry) {
    }

    /** Inside the handler's protection, right before it runs: throwing here is a handler that throws. */
    void inHandler(final int cpu, final int v) throws Exception {
    }

    /** The handler returned (or threw), before the EOI restores the frame. */
    void returned(final CpuContext context, final InterruptView entry, final int payloads) {
        final InterruptHandledEvent jfr = entry.jfr;
        if (jfr != null) {
            jfr.finish(entry.cpu, entry.vector.number(), payloads, entry.raisedAt);
        }
    }

    // ---- the interrupt flag (the owning core) -------------------------------------------------

    /** Code cleared the interrupt flag. */
    void interruptsOff(final CpuContext context) {
    }

    /** Code set the interrupt flag again: stamps the re-enable if an interrupt waited for it. */
    void interruptsOn(final CpuContext context) {
        if (context.interruptWaiting()) {
            context.enabledAt(System.nanoTime());
        }
    }

    /** Faults, timing and a simulation's hooks, on top of the host's JFR probe. */
    private static final class Instrumented extends DeliveryProbe {
        /** What a simulation charges for: the ICR write per target, and the entry into a handler. */
        private static final Timeline.Work SEND = Timeline.Work.named("send");
        private static final Timeline.Work INTERRUPT = Timeline.Work.named("interrupt");

        private final Timeline timeline;
        /** Null when no test injects faults. */
        private final FaultInjector faults;
        private final boolean timed;

        Instrumented(final Timeline timeline, final FaultInjector faults, final boolean timed) {
            this.timeline = Objects.requireNonNull(timeline, "timeline");
            this.faults = faults;
            this.timed = timed;
        }

        @Override
        void interleave() {
            timeline.interleave();
        }

        @Override
        void raising(final LocalApic target, final int v) {
            timeline.spend(SEND, 1); // charged before the bit is visible
            if (InterruptHandledEvent.isRecorded()) {
                target.stampRaise(v, timeline.nanoTime());
            }
        }

        @Override
        boolean dropWakeup(final int cpu) {
            return faults != null && faults.dropWakeup(cpu);
        }

        @Override
        void taking(final InterruptView entry, final LocalApic apic, final int v) {
            if (faults != null) {
                faults.beforeDelivery(entry.cpu, v); // before the JFR event starts: a delay is not the handler's
            }
            super.taking(entry, apic, v);
        }

        @Override
        void entered(final InterruptView entry) {
            if (timed) {
                entry.enteredAt = timeline.nanoTime();
            }
            timeline.spend(INTERRUPT, 1); // the entry's cost
            timeline.interleave(); // the payloads are taken, not yet handled: a close or a send may come between
        }

        @Override
        void inHandler(final int cpu, final int v) throws Exception {
            if (faults != null) {
                faults.inHandler(cpu, v);
            }
        }

        @Override
        void returned(final CpuContext context, final InterruptView entry, final int payloads) {
            if (timed) {
                context.handlerNanos.add(timeline.nanoTime() - entry.enteredAt);
            }
            super.returned(context, entry, payloads);
        }

        @Override
        void interruptsOff(final CpuContext context) {
            if (timed) {
                context.disabledAt(timeline.nanoTime());
            }
        }

        @Override
        void interruptsOn(final CpuContext context) {
            if (timed) {
                context.measuredOn(timeline.nanoTime());
            } else if (context.interruptWaiting()) {
                context.enabledAt(timeline.nanoTime());
            }
        }
    }
}
