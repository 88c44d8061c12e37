package org.ipi4j;

import java.util.List;
import java.util.function.IntConsumer;

import org.ipi4j.apic.InterruptController;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Memory;
import org.ipi4j.time.Timeline;

/**
 * The machine as its cores and its interrupt controller see it: what they need of it, and no
 * more. Its own class, not methods of {@link Machine}, so that none of this is public on the
 * machine and no arrow runs from a core back to the machine's file.
 *
 * <p>Thread-safety: made and {@linkplain #bind bound} by the machine's constructor, before any
 * core thread starts (the start is the happens-before edge to every core); then read-only, called
 * from any core and from senders.
 */
final class MachineHost implements CoreHost, InterruptController.Host {
    private final Timeline timeline;
    /** One instruction's virtual time in a simulation; nothing on the host (its time passes by itself). */
    private final Runnable boundaryCost;
    private final Pinner pinner;
    private final Memory memory;
    private final List<IntConsumer> pvFlushHooks;
    private final OopsLog oopses;
    private final FaultPolicy faultPolicy;
    /** Set once by {@link #bind}: the controller is made from this host, so it comes after it. */
    private InterruptController interrupts;
    private Core[] cores;

    MachineHost(final Timeline timeline, final Runnable boundaryCost, final Pinner pinner, final Memory memory,
                final List<IntConsumer> pvFlushHooks, final OopsLog oopses, final FaultPolicy faultPolicy) {
        this.timeline = timeline;
        this.boundaryCost = boundaryCost;
        this.pinner = pinner;
        this.memory = memory;
        this.pvFlushHooks = pvFlushHooks;
        this.oopses = oopses;
        this.faultPolicy = faultPolicy;
    }

    /** The controller made from this host, and the cores made from both; before any core starts. */
    void bind(final InterruptController controller, final Core[] machineCores) {
        this.interrupts = controller;
        this.cores = machineCores;
    }

    /** {@return the calling thread's core if it is one of this machine's, else null} */
    Core currentCore() {
        final Core c = Core.current();
        return c != null && c.id() < cores.length && cores[c.id()] == c ? c : null;
    }

    @Override
    public Timeline timeline() {
        return timeline;
    }

    @Override
    public Runnable boundaryCost() {
        return boundaryCost;
    }

    @Override
    public Pinner pinner() {
        return pinner;
    }

    @Override
    public Memory memory() {
        return memory;
    }

    @Override
    public void pvFlush(final int cpu) {
        for (final IntConsumer hook : pvFlushHooks) {
            try {
                hook.accept(cpu);
            } catch (RuntimeException | Error e) {
                // A hook's failure must not end the core's run loop (the core would be dead while
                // the machine runs): it is an oops, like a failing handler, and the next hook runs.
                oopses.record(cpu, null, "PV flush hook threw", e, List.of());
            }
        }
    }

    @Override
    public void oops(final int cpu, final Vector vector, final String what, final Throwable error) {
        oopses.record(cpu, vector, what, error, List.of());
    }

    @Override
    public int currentCpu() {
        final Core c = currentCore();
        return c == null ? -1 : c.id();
    }

    @Override
    public void handlerFailed(final int cpu, final Vector vector, final Throwable error, final List<Object> payloads) {
        oopses.record(cpu, vector, "handler threw", error, payloads);
        if (faultPolicy == FaultPolicy.HALT_MACHINE) {
            // A core cannot join itself: refuse new work and ask every core to stop; the
            // owner's shutdown()/close() joins and collects what is left.
            interrupts.closeFromCore();
            for (final Core core : cores) {
                core.runtime().requestStop();
            }
        }
    }
}
