package org.ipi4j.apic;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.InterruptHandledEvent;
import org.jctools.queues.MessagePassingQueue;

/**
 * What a handler is given on one interrupt entry: an {@link Interrupt} that is also its own
 * {@link TrapFrame}, filled by {@link CpuPort}'s interrupt entry. The outermost entry of a core
 * reuses one view, so a steady stream of interrupts allocates nothing; a nested entry (a handler
 * that re-enabled interrupts) gets a view of its own, so it does not clobber the outer one. It
 * also carries what the {@link DeliveryProbe} measured at entry, for the same entry's return.
 *
 * <p>Thread-safety: written and read by the owning core only; {@link #copy()} is what a handler
 * hands to another thread.
 */
final class InterruptView implements Interrupt, TrapFrame {
    final int cpu;
    final ArrayList<Object> buffer = new ArrayList<>();
    private final List<Object> readOnly = Collections.unmodifiableList(buffer);
    /** Where {@link LocalApic#accept} drains the mailbox. */
    final MessagePassingQueue.Consumer<Object> sink = buffer::add;
    Vector vector;
    long epc;
    Mode previousMode;
    boolean previousIf;

    // ---- the probe's notes from entry to return (see DeliveryProbe) ----
    /** The JFR event of this entry, or null when InterruptHandled is not recorded. */
    InterruptHandledEvent jfr;
    /** When the send that raised the vector was made, for the JFR event; 0 if unknown. */
    long raisedAt;
    /** The clock at handler entry, when handlers are timed. */
    long enteredAt;

    InterruptView(final int cpu) {
        this.cpu = cpu;
    }

    /** Saves the frame: where the interrupted code resumes, and its mode and interrupt flag. */
    void enter(final Vector v, final long resumeAt, final Mode mode, final boolean interruptsEnabled) {
        this.vector = v;
        this.epc = resumeAt;
        this.previousMode = mode;
        this.previousIf = interruptsEnabled;
    }

    @Override
    public int cpu() {
        return cpu;
    }

    @Override
    public Vector vector() {
        return vector;
    }

    @Override
    public TrapFrame frame() {
        return this;
    }

    @Override
    public List<Object> payloads() {
        return readOnly;
    }

    @Override
    public long epc() {
        return epc;
    }

    @Override
    public Mode previousMode() {
        return previousMode;
    }

    @Override
    public boolean previousInterruptsEnabled() {
        return previousIf;
    }

    @Override
    public Interrupt copy() {
        return new Snapshot(cpu, vector, epc, previousMode, previousIf, List.copyOf(buffer));
    }

    @Override
    public String toString() {
        return "Interrupt[cpu=" + cpu + ", " + vector + ", epc=" + epc + ", payloads=" + buffer + "]";
    }

    /** What {@link Interrupt#copy()} returns: immutable, its own frame. */
    private record Snapshot(int cpu, Vector vector, long epc, Mode previousMode, boolean previousInterruptsEnabled,
                            List<Object> payloads) implements Interrupt, TrapFrame {
        @Override
        public TrapFrame frame() {
            return this;
        }

        @Override
        public Interrupt copy() {
            return this;
        }
    }
}
