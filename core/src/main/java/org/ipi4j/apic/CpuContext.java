package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import org.ipi4j.api.InternalApi;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.TrapFrame;
import org.ipi4j.observability.Counter;

/**
 * The registers of one core (privilege mode, interrupt flag, EPC, the vector in service) and its
 * counters. Interrupt entry and exit, which save and restore these registers, are the receiving
 * half of the core's {@link CpuPort}.
 *
 * <h2>Thread-safety</h2>
 * Everything that changes state belongs to the core's own thread (the {@code Core} checks it). The
 * observers ({@link #mode()}, {@link #interruptsEnabled()}, {@link #epc()}, ...) may be called
 * from any thread and return a recent value: registers are published with opaque stores, which
 * are never torn but order nothing. Only the owner writes this object, so it is apart from the
 * port, which every sender reads.
 */
@InternalApi
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
    /** Measures the interrupts-off stretches (or not): see {@link DeliveryProbe}. */
    private final DeliveryProbe probe;

    // ---- registers: written by the owner, published with opaque stores for observers -------
    long epc = -1;
    Mode mode = Mode.KERNEL;
    boolean interruptsEnabled = true;
    int inService = -1;
    private long irqOffSince;
    private long irqOnAt;
    /** Interrupt entries now running on this core (more than one only if a handler re-enabled interrupts). */
    int depth;

    final Counter sent = new Counter();
    /** Rounds this core spent backing off from a full mailbox under BLOCK (each takes its own interrupts). */
    final Counter sendBackoffs = new Counter();
    final Counter received = new Counter();
    final Counter payloads = new Counter();
    final Counter handlerNanos = new Counter();
    final Counter maxIrqOffNanos = new Counter();
    final Counter handlerFailures = new Counter();

    CpuContext(final int cpu, final LocalApic apic, final DeliveryProbe probe) {
        this.cpu = cpu;
        this.apic = apic;
        this.probe = probe;
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

    /**
     * {@return the machine's clock since which interrupts have been off, or 0 if they are on or
     * the stretch is not measured} Measured only with handler timing on
     * ({@code Machine.Builder.timeHandlers}): without it, disabling interrupts reads no clock, and
     * a report (a watchdog's, a stuck shutdown's) can say that they are off but not for how long.
     */
    public long interruptsOffSince() {
        return (long) IRQ_OFF_SINCE.getOpaque(this);
    }

    /**
     * {@return the machine's clock when code last re-enabled interrupts while an interrupt was
     * waiting for it (0 if never)} That is every re-enable that ended a delivery delay, which is
     * what splitting a delivery's delay into "interrupts were off" and the rest needs; a re-enable
     * with nothing pending reads no clock. With handler timing on, every re-enable is stamped.
     */
    public long lastInterruptsEnabledAt() {
        return (long) IRQ_ON_AT.getOpaque(this);
    }

    /**
     * {@return rounds this core backed off from a full mailbox under BLOCK} Each round takes the
     * core's own interrupts, so the stall watch counts it as progress: waiting for room is not a stall.
     */
    public long sendBackoffs() {
        return sendBackoffs.get();
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

    /**
     * {@return longest stretch with interrupts disabled by code (not handlers), if the machine
     * measures it (0 otherwise)} Measured only with handler timing on
     * ({@code Machine.Builder.timeHandlers}), which costs a clock read at every disable and
     * re-enable.
     */
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

    /** Clears the interrupt flag (the probe notes since when, if it measures). Owner only. */
    public void irqOff() {
        if (interruptsEnabled) {
            probe.interruptsOff(this);
            IF.setOpaque(this, false);
        }
    }

    /** Sets the interrupt flag; does not deliver (the next boundary does). Owner only. */
    public void irqOn() {
        if (!interruptsEnabled) {
            IF.setOpaque(this, true);
            probe.interruptsOn(this);
        }
    }

    // ---- for the port's interrupt entry and exit, and the probe (owner only) -----------------

    /** Interrupt entry: {@link Mode#KERNEL}, interrupts off, {@code v} in service. */
    void enterHandler(final int v) {
        MODE.setOpaque(this, Mode.KERNEL);
        IF.setOpaque(this, false);
        IN_SERVICE.setOpaque(this, v);
        depth++;
    }

    /** EOI and return from interrupt: {@code outer} in service again, the saved mode and flag restored. */
    void returnFromInterrupt(final int outer, final Mode previousMode, final boolean previousIf) {
        IN_SERVICE.setOpaque(this, outer);
        MODE.setOpaque(this, previousMode);
        IF.setOpaque(this, previousIf);
    }

    /** {@return true if a vector is pending: a re-enable now ends its delivery delay} */
    boolean interruptWaiting() {
        return apic.highestPending() >= 0; // acquire loads, no side effect (anyPending clears posted ON)
    }

    void disabledAt(final long now) {
        IRQ_OFF_SINCE.setOpaque(this, now);
    }

    void enabledAt(final long now) {
        IRQ_ON_AT.setOpaque(this, now);
    }

    /** A measured re-enable: the stamp, and the stretch since the measured disable. */
    void measuredOn(final long now) {
        IRQ_ON_AT.setOpaque(this, now);
        if (irqOffSince != 0) { // 0: a handler re-enabling, whose flag was cleared by the entry, not by code
            maxIrqOffNanos.max(now - irqOffSince);
            IRQ_OFF_SINCE.setOpaque(this, 0L);
        }
    }
}
