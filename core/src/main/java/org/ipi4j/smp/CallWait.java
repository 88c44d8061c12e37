package org.ipi4j.smp;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.time.Timeline;

/**
 * How the caller of a waited cross-core call waits for its acknowledgements, and what it does
 * when they do not come.
 *
 * <h2>Contract</h2>
 * {@link #await} returns once every target of the call acknowledged ({@link Call#isDone()}, whose
 * volatile read of {@code remaining} makes every target's writes visible), and never allocates
 * on that path. It never hangs silently: after one watchdog period it re-sends the call-function
 * IPI to every target that has not answered (in case a wake-up was missed), and after a second it
 * throws {@link CallTimeoutException} describing what each silent core was doing; the call is then
 * still queued on those cores, so the caller must not reuse it. Where waiting is a deadlock hazard
 * (a handler, interrupts off) the caller refuses with {@link #checkMayWait} before it queues
 * anything.
 *
 * <h2>How it waits</h2>
 * <ul>
 *   <li>On one of the machine's cores: the core keeps taking its own interrupts (another core may
 *       be calling it) and idles by the machine's policy until the last acknowledgement wakes it
 *       ({@link Core#waitUntil}).</li>
 *   <li>On an outside thread: it spins {@value #CALLER_SPINS} rounds (most calls finish within
 *       microseconds, and while it spins no acknowledgement needs to unpark it), then publishes
 *       itself as the call's waiter and parks.</li>
 *   <li>With PV directed yield ({@link org.ipi4j.Paravirt#SCHED_YIELD}), before each wait or park,
 *       a target the host preempted gets the caller's time slice, which here ends its preemption
 *       (KVM's yield to a preempted vCPU): a preempted target cannot answer.</li>
 * </ul>
 * Thread-safe: each call is waited for by its own caller only; the counters are shared.
 */
final class CallWait {
    /** An outside caller spins this many times before parking: most calls finish within microseconds. */
    private static final int CALLER_SPINS = 500;

    private final Machine machine;
    private final Timeline timeline;
    private final long watchdogNanos;
    /** PV directed yield ({@link org.ipi4j.Paravirt#SCHED_YIELD}). */
    private final boolean yieldToPreempted;
    private final LongAdder resends = new LongAdder();
    private final LongAdder yields = new LongAdder();

    CallWait(final Machine machine, final long watchdogNanos, final boolean yieldToPreempted) {
        this.machine = machine;
        this.timeline = machine.timeline();
        this.watchdogNanos = watchdogNanos;
        this.yieldToPreempted = yieldToPreempted;
    }

    /** {@return IPIs re-sent by the watchdog} */
    long resends() {
        return resends.sum();
    }

    /** {@return times a waiting caller yielded to a preempted target} */
    long yields() {
        return yields.sum();
    }

    /**
     * Refuses, before anything is queued, a wait on one of the machine's cores inside an
     * interrupt handler or with interrupts disabled: a target may be waiting for this core. An
     * outside thread ({@code self} null) may always wait.
     *
     * @throws IllegalStateException if {@code self} may not wait here
     */
    static void checkMayWait(final Core self) {
        if (self == null) {
            return;
        }
        if (self.inServiceVector() >= 0) {
            throw new IllegalStateException("deadlock hazard: core " + self.id() + " waits for a cross-core call from "
                + "inside the handler for " + Vector.of(self.inServiceVector()) + "; call without wait instead");
        }
        if (!self.interruptsEnabled()) {
            throw new IllegalStateException("deadlock hazard: core " + self.id()
                + " waits for a cross-core call with interrupts disabled; the target may be waiting for us");
        }
    }

    /**
     * Waits for every acknowledgement of {@code call}, armed and sent by the calling thread.
     *
     * @return the IPIs the watchdog re-sent (0 or 1)
     * @throws CallTimeoutException if a target did not answer within two watchdog periods
     */
    int await(final Call call) {
        final Core self = machine.currentCore();
        long deadline = timeline.nanoTime() + watchdogNanos;
        boolean resent = false;
        int spins = 0;
        if (self != null) {
            call.waiter(self); // published before waitUntil's reads of remaining
        }
        while (!call.isDone()) {
            final long left = deadline - timeline.nanoTime();
            if (left <= 0) {
                if (resent) {
                    throw timeout(call);
                }
                resent = true;
                resend(call, self);
                deadline = timeline.nanoTime() + watchdogNanos;
                continue;
            }
            if (self != null) {
                // A waiting core keeps taking its own interrupts (another core may be calling
                // us) and idles by the machine's policy; the last acknowledgement wakes it.
                if (yieldToPreempted) {
                    yieldToPreempted(call); // before we wait: a preempted target cannot answer
                }
                self.waitUntil(call.isDone, deadline);
            } else if (++spins < CALLER_SPINS) {
                timeline.spinWait(); // while we spin, no acknowledgement needs to unpark us
            } else {
                // Dekker with the last acknowledgement (Call.acknowledge reads waiter after its
                // decrement): publish ourselves, then look again.
                call.waiter(Thread.currentThread());
                if (yieldToPreempted) {
                    yieldToPreempted(call); // before we sleep: a preempted target cannot answer
                }
                if (!call.isDone()) {
                    timeline.parkNanos(this, left);
                }
            }
        }
        return resent ? 1 : 0;
    }

    /**
     * PV directed yield: a target that has not answered because the host preempted it gets the
     * caller's time slice, which here ends its preemption.
     */
    private void yieldToPreempted(final Call call) {
        for (int i = 0; i < call.remoteCount; i++) {
            if (!call.descriptors[i].acked()) {
                final Core target = machine.core(call.targets[i]);
                if (target.isPreempted()) {
                    target.resume();
                    yields.increment();
                }
            }
        }
    }

    /** The watchdog's second chance: the IPI again to every remote target that has not answered. */
    private void resend(final Call call, final Core self) {
        for (int i = 0; i < call.remoteCount; i++) {
            final int cpu = call.targets[i];
            if (!call.descriptors[i].acked() && (self == null || self.id() != cpu)) {
                try {
                    machine.interrupts().resend(cpu, Vector.CALL_FUNCTION);
                    resends.increment();
                } catch (MachineClosedException e) {
                    return;
                }
            }
        }
    }

    /** What each target that did not run the function was doing, as the exception the caller gets. */
    private CallTimeoutException timeout(final Call call) {
        final StringBuilder sb = new StringBuilder("cross-core call not acknowledged after ")
            .append(TimeUnit.NANOSECONDS.toMillis(2 * watchdogNanos)).append(" ms (IPI re-sent once); silent cores:");
        CpuSet silent = CpuSet.empty();
        CpuSet unreached = CpuSet.empty();
        CpuSet givenUp = CpuSet.empty();
        for (int i = 0; i < call.count; i++) {
            final CallDescriptor d = call.descriptors[i];
            final boolean answered = d.acked(); // acquire: skipped, written before the ack, is visible
            if (answered && !d.skipped) {
                continue; // it ran (and answered, well or not)
            }
            final int cpu = call.targets[i];
            silent = silent.with(cpu); // every target that did not run the function, reached or not
            if (answered) {
                givenUp = givenUp.with(cpu); // answered without running: the machine is shutting down
                continue;
            }
            if (i < call.remoteCount && d.level == 0 && !d.running()) {
                // Never queued: the core that passes the call on (serial, tree, topology) has
                // not done so. That core is the one to describe; this one did nothing wrong.
                unreached = unreached.with(cpu);
                continue;
            }
            final Core core = machine.core(cpu);
            sb.append("\n  ").append(d.running() ? "running the function: " : "call queued, not taken: ");
            describe(sb, core);
        }
        if (!givenUp.isEmpty()) {
            sb.append("\n  given up without running (the machine is shutting down): ").append(givenUp);
        }
        if (!unreached.isEmpty()) {
            sb.append("\n  not reached yet: ").append(unreached).append(" (").append(unreached.size())
                .append(" target(s); the ").append(call.broadcast).append(" broadcast passes the call on only from the cores above)");
        }
        return new CallTimeoutException(silent, sb.toString());
    }

    /**
     * The report of cores that did not finish something the caller waited for, within two
     * watchdog periods, without a call of this layer (the MMU's TLBSYNC): each core described as
     * {@link #await} describes a silent target.
     *
     * @param cores the cores still not done
     * @param what the headline: what was waited for, and how long
     */
    CallTimeoutException timeout(final CpuSet cores, final String what) {
        final StringBuilder sb = new StringBuilder(what);
        for (int cpu = cores.next(0); cpu >= 0; cpu = cores.next(cpu + 1)) {
            sb.append("\n  ");
            describe(sb, machine.core(cpu));
        }
        return new CallTimeoutException(cores, sb.toString());
    }

    /** Appends what {@code core} is doing and the top of its stack: a watchdog report's line for a silent core. */
    private static void describe(final StringBuilder sb, final Core core) {
        sb.append(core.describe());
        final StackTraceElement[] stack = core.stackTrace();
        for (int j = 0; j < Math.min(12, stack.length); j++) {
            sb.append("\n      at ").append(stack[j]);
        }
    }
}
