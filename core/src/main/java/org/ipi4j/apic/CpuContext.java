package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.observability.Counter;
import org.ipi4j.observability.InterruptHandledEvent;
import org.jctools.queues.MessagePassingQueue;

/**
 * The owner-thread half of one core: its registers (privilege mode, interrupt flag, EPC, the
 * vector in service) and interrupt entry and exit.
 *
 * <h2>Entry and exit</h2>
 * At an instruction boundary with interrupts enabled, {@link #deliverPending(long)} takes the
 * highest pending vector first: it accepts the vector from the {@link LocalApic} (clear the bit,
 * then drain the mailbox), saves the trap frame (EPC = where execution resumes, previous mode and
 * interrupt flag), enters {@link Mode#KERNEL} with interrupts disabled, runs the IDT's handler,
 * and on return (EOI) restores the frame exactly, whatever the handler did. The handler receives
 * a per-core {@link Interrupt} view that is reused for the next entry, so a steady stream of
 * interrupts allocates nothing; a nested entry (a handler that re-enabled interrupts) gets a view
 * of its own.
 *
 * <h2>Thread-safety</h2>
 * Everything that changes state belongs to the core's own thread (the {@code Core} checks it). The
 * observers ({@link #mode()}, {@link #interruptsEnabled()}, {@link #epc()}, ...) may be called
 * from any thread and return a recent value: registers are published with opaque stores, which
 * are never torn but order nothing.
 */
public final class CpuContext {
    private static final VarHandle EPC;
    private static final VarHandle MODE;
    private static final VarHandle IF;
    private static final VarHandle IN_SERVICE;
    private static final VarHandle IRQ_OFF_SINCE;
    private static final VarHandle IRQ_ON_AT;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            EPC = l.findVarHandle(CpuContext.class, "epc", long.class);
            MODE = l.findVarHandle(CpuContext.class, "mode", Mode.class);
            IF = l.findVarHandle(CpuContext.class, "interruptsEnabled", boolean.class);
            IN_SERVICE = l.findVarHandle(CpuContext.class, "inService", int.class);
            IRQ_OFF_SINCE = l.findVarHandle(CpuContext.class, "irqOffSince", long.class);
            IRQ_ON_AT = l.findVarHandle(CpuContext.class, "irqOnAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int cpu;
    private final LocalApic apic;
    private final InterruptController controller;
    /** Null unless a test injects faults. */
    private final FaultInjector faults;

    // ---- registers: written by the owner, published with opaque stores for observers -------
    private long epc = -1;
    private Mode mode = Mode.KERNEL;
    private boolean interruptsEnabled = true;
    private int inService = -1;
    private long irqOffSince;
    private long irqOnAt;
    /** Interrupt entries now running on this core (more than one only if a handler re-enabled interrupts). */
    private int depth;

    /** The view handed to the outermost handler, reused for every entry. */
    private final View view;

    final Counter sent = new Counter();
    final Counter received = new Counter();
    final Counter payloads = new Counter();
    final Counter handlerNanos = new Counter();
    final Counter maxIrqOffNanos = new Counter();
    final Counter handlerFailures = new Counter();

    CpuContext(final int cpu, final LocalApic apic, final InterruptController controller) {
        this.cpu = cpu;
        this.apic = apic;
        this.controller = controller;
        this.faults = controller.faults();
        this.view = new View(cpu);
    }

    /** {@return the core id} */
    public int cpu() {
        return cpu;
    }

    // =====================================================================================
    // Observers (any thread)
    // =====================================================================================

    /** {@return current privilege level} */
    public Mode mode() {
        return (Mode) MODE.getOpaque(this);
    }

    /** {@return current interrupt flag} */
    public boolean interruptsEnabled() {
        return (boolean) IF.getOpaque(this);
    }

    /** {@return current EPC (see {@link TrapFrame#epc()}), -1 when idle} */
    public long epc() {
        return (long) EPC.getOpaque(this);
    }

    /** {@return vector whose handler runs now, or -1} */
    public int inServiceVector() {
        return (int) IN_SERVICE.getOpaque(this);
    }

    /** {@return {@code controller.timeline.nanoTime()} since which interrupts have been off, or 0 if they are on} */
    public long interruptsOffSince() {
        return (long) IRQ_OFF_SINCE.getOpaque(this);
    }

    /** {@return {@code controller.timeline.nanoTime()} when code last re-enabled interrupts (0 if never)} */
    public long lastInterruptsEnabledAt() {
        return (long) IRQ_ON_AT.getOpaque(this);
    }

    /** {@return interrupts this core sent (one per target)} */
    public long sent() {
        return sent.get();
    }

    /** {@return interrupt entries taken} */
    public long received() {
        return received.get();
    }

    /** {@return payloads its handlers received} */
    public long payloadsReceived() {
        return payloads.get();
    }

    /** {@return time spent in handlers, if the machine measures it (0 otherwise)} */
    public long handlerNanos() {
        return handlerNanos.get();
    }

    /** {@return handlers that threw on this core} */
    public long handlerFailures() {
        return handlerFailures.get();
    }

    /** {@return longest stretch with interrupts disabled by code (not handlers)} */
    public long maxInterruptsOffNanos() {
        return maxIrqOffNanos.get();
    }

    // =====================================================================================
    // Owner thread
    // =====================================================================================

    /**
     * Sets the EPC. Owner only.
     *
     * @param value the value
     */
    public void epc(final long value) {
        EPC.setOpaque(this, value);
    }

    /**
     * Sets the privilege level. Owner only.
     *
     * @param value the value
     */
    public void mode(final Mode value) {
        MODE.setOpaque(this, value);
    }

    /** {@return true if an interrupt would be taken at a boundary now} Owner only. */
    public boolean deliverable() {
        // anyPending first, always: in posted mode it is also the look that clears ON (the idle
        // handshake's re-check); the priority test comes after it.
        return interruptsEnabled && apic.anyPending() && (inService < 0 || outranksInService(apic.highestPending()));
    }

    /**
     * As a local APIC's processor priority: inside a handler, only a vector of a higher priority
     * class than the one in service is taken (after the handler re-enabled interrupts); the others
     * wait for its EOI. So a vector never nests inside itself: a handler that re-enables
     * interrupts is not re-entered by its own vector, whose per-core state (SmpCall's published
     * list, say) it still owns.
     */
    private boolean outranksInService(final int v) {
        return v >= 0 && (inService < 0 || (v >>> 4) > (inService >>> 4));
    }

    /** Clears the interrupt flag, noting since when (for the watchdog and the irq-off maximum). Owner only. */
    public void irqOff() {
        if (interruptsEnabled) {
            IRQ_OFF_SINCE.setOpaque(this, controller.timeline.nanoTime());
            IF.setOpaque(this, false);
        }
    }

    /** Sets the interrupt flag; does not deliver (the next boundary does). Owner only. */
    public void irqOn() {
        if (!interruptsEnabled) {
            final long now = controller.timeline.nanoTime();
            IF.setOpaque(this, true);
            IRQ_ON_AT.setOpaque(this, now);
            maxIrqOffNanos.max(now - irqOffSince);
            IRQ_OFF_SINCE.setOpaque(this, 0L);
        }
    }

    /**
     * An instruction boundary: while interrupts are enabled and a vector is pending, takes it,
     * highest first; inside a handler, only vectors of a higher priority class than the one in
     * service (see {@link #outranksInService}). {@code resumeAt} is the EPC saved in the frames. Owner only.
     *
     * @param resumeAt the EPC the interrupted code resumes at
     */
    public void deliverPending(final long resumeAt) {
        int v;
        while (interruptsEnabled && (v = apic.highestPending()) >= 0 && outranksInService(v)) {
            take(v, resumeAt);
        }
    }

    private void take(final int v, final long resumeAt) {
        if (faults != null) {
            faults.beforeDelivery(cpu, v);
        }
        final View entry = depth == 0 ? view : new View(cpu); // nested entries must not clobber the outer view
        final InterruptHandledEvent jfr = InterruptHandledEvent.startIfEnabled(); // null unless recorded
        // Read before accept clears the bit: after that, a new send may stamp its own time.
        final long raisedAt = jfr != null ? apic.raisedAt(v) : 0L;
        final int n = apic.accept(v, entry.sink);
        final Vector vector = Vector.of(v);
        entry.enter(vector, resumeAt, mode, interruptsEnabled);
        final int outer = inService;
        MODE.setOpaque(this, Mode.KERNEL);
        IF.setOpaque(this, false);
        IN_SERVICE.setOpaque(this, v);
        depth++;
        final InterruptHandler handler = controller.handler(v);
        final boolean timed = controller.timeHandlers;
        final long start = timed ? controller.timeline.nanoTime() : 0L;
        if (controller.simulated) {
            controller.timeline.spend(org.ipi4j.idle.Timeline.Work.INTERRUPT, 1); // the entry's cost
        }
        controller.timeline.interleave(); // the payloads are taken, not yet handled: a close or a send may come between
        try {
            if (faults != null) {
                faults.inHandler(cpu, v);
            }
            handler.handle(entry);
        } catch (Throwable t) {
            handlerFailures.increment();
            controller.handlerFailed(cpu, vector, t, List.copyOf(entry.buffer));
        }
        if (timed) {
            handlerNanos.add(controller.timeline.nanoTime() - start);
        }
        depth--;
        received.increment();
        payloads.add(n);
        if (jfr != null) {
            jfr.finish(cpu, v, n, raisedAt);
        }
        // EOI and return from interrupt: restore the frame exactly, whatever the handler did.
        IN_SERVICE.setOpaque(this, outer);
        MODE.setOpaque(this, entry.previousMode);
        IF.setOpaque(this, entry.previousIf);
        entry.buffer.clear();
    }

    /**
     * The per-core, reusable handler view: an {@link Interrupt} that is also its own
     * {@link TrapFrame}.
     */
    private static final class View implements Interrupt, TrapFrame {
        final int cpu;
        final ArrayList<Object> buffer = new ArrayList<>();
        final List<Object> readOnly = Collections.unmodifiableList(buffer);
        final MessagePassingQueue.Consumer<Object> sink = buffer::add;
        Vector vector;
        long epc;
        Mode previousMode;
        boolean previousIf;

        View(final int cpu) {
            this.cpu = cpu;
        }

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
