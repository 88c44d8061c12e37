package org.ipi4j.smp;

import java.time.Duration;
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
 * still queued on those cores, so the caller must not reuse it.
 *
 * <h2>With a deadline</h2>
 * A call with a deadline D re-sends at {@code min(watchdog, D/2)} after it began (so a missed
 * wake-up costs at most half the deadline, and a deadline of two watchdog periods keeps the
 * watchdog's timing) and at D {@link #expire expires}: every target that has not started is
 * claimed and answered as cancelled, so it never runs the function, and the exception says which
 * targets ran, which were cancelled, and which are still running (for how long, their stacks).
 * Where waiting is a deadlock hazard
 * (a handler, interrupts off) the caller refuses with {@link #checkMayWait} before it queues
 * anything.
 *
 * <h2>How it waits</h2>
 * <ul>
 *   <li>On one of the machine's cores: the core keeps taking its own interrupts (another core may
 *       be calling it) and idles by the machine's policy until the last acknowledgement wakes it
 *       ({@link Core#waitUntil}).</li>
 *   <li>On an outside thread: it spins for up to {@value #CALLER_SPIN_NANOS} ns and
 *       {@value #CALLER_MAX_SPINS} rounds (most calls
 *       finish within microseconds, a call to a parked core within one remote wake-up, and while
 *       it spins no acknowledgement needs to unpark it), then publishes itself as the call's
 *       waiter and parks. For a call without deadline the first {@value #CLOCKLESS_SPINS} spins
 *       read no clock (the watchdog starts after them).</li>
 *   <li>With PV directed yield ({@link org.ipi4j.Paravirt#SCHED_YIELD}), before each wait or park,
 *       a target the host preempted gets the caller's time slice, which here ends its preemption
 *       (KVM's yield to a preempted vCPU): a preempted target cannot answer.</li>
 * </ul>
 * Thread-safe: each call is waited for by its own caller only; the counters are shared.
 */
final class CallWait {
    /**
     * An outside caller spins this long before parking. Long enough for a call to a parked core:
     * its wake-up costs 10 to 30 us on a VM, and a caller that parked sooner (it used to after
     * 500 spins, about 16 us here) needed a second wake-up of its own for the acknowledgement:
     * measured interleaved ({@code lab trials --variants call-park}), a waited call to a parked
     * core went from 2.7x the park/unpark floor back to back (42 us against 16, with a host
     * function-call IPI per call) to 1.04x. Short enough that a caller waiting for a stuck or
     * busy core gives its CPU back soon.
     */
    private static final long CALLER_SPIN_NANOS = 50_000;
    /**
     * And at most this many spins: where a spin round lets no time pass (a simulation whose
     * oversubscribed spin costs a free context switch), a spin bounded by time alone would keep
     * the baton forever (Review3CostTest's livelock). On the host a round, a clock read and a
     * pause, takes 15 ns or more, so 10,000 rounds outlast the 50 us.
     */
    private static final int CALLER_MAX_SPINS = 10_000;
    /** The first of those spins, for a call without deadline, read no clock. */
    private static final int CLOCKLESS_SPINS = 64;

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
     * @param deadlineNanos the call's deadline, or 0 for none (the watchdog's two periods, nothing cancelled)
     * @param expiry when the deadline passes on the machine's clock (ignored without one)
     * @return the IPIs the watchdog re-sent (0 or 1)
     * @throws CallTimeoutException if a target did not answer in time
     */
    int await(final Call call, final long deadlineNanos, final long expiry) {
        final Core self = machine.currentCore();
        int spins = 0;
        if (self == null && deadlineNanos == 0) {
            // An outside caller's first looks read no clock: most calls are answered within them,
            // and a call without deadline only starts its watchdog (periods of milliseconds) a
            // few microseconds late. A call with a deadline reads the clock from the first look.
            while (spins < CLOCKLESS_SPINS) {
                if (call.isDone()) {
                    return 0;
                }
                spins++;
                timeline.spinWait();
            }
        }
        final long spinStart = timeline.nanoTime();
        final long end = deadlineNanos == 0 ? spinStart + 2 * watchdogNanos : expiry;
        final long resendAt = deadlineNanos == 0 ? end - watchdogNanos
            : end - deadlineNanos + Math.min(watchdogNanos, deadlineNanos / 2);
        long deadline = resendAt;
        boolean resent = false;
        if (self != null) {
            call.waiter(self); // published before waitUntil's reads of remaining
        }
        while (!call.isDone()) {
            final long now = timeline.nanoTime();
            final long left = deadline - now;
            if (left <= 0) {
                if (resent) {
                    throw deadlineNanos == 0 ? timeout(call) : expire(call, deadlineNanos);
                }
                resent = true;
                resend(call, self);
                deadline = end;
                continue;
            }
            if (self != null) {
                // A waiting core keeps taking its own interrupts (another core may be calling
                // us) and idles by the machine's policy; the last acknowledgement wakes it.
                if (yieldToPreempted) {
                    yieldToPreempted(call); // before we wait: a preempted target cannot answer
                }
                self.waitUntil(call.isDone, deadline);
            } else if (now - spinStart < CALLER_SPIN_NANOS && ++spins < CALLER_MAX_SPINS) {
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

    /**
     * The deadline of {@code call} (of {@code deadlineNanos}) passed: claims every share no
     * target has started and answers it with the returned exception, which says which targets
     * ran, which are cancelled (they never run the function) and which are still running. Any
     * thread (the caller, or the timer of an async call); allocates.
     */
    CallTimeoutException expire(final Call call, final long deadlineNanos) {
        return expire(call, deadlineNanos, null);
    }

    /**
     * {@link #expire(Call, long)}, failing {@code future} (if not null) with the exception once the
     * claimed shares are answered and their room is given back; if the last answer is among them,
     * it completes the future with that same exception ({@link Call#expired}).
     */
    CallTimeoutException expire(final Call call, final long deadlineNanos, final CallCompletion<?> future) {
        final boolean[] claimed = call.claimUnstarted();
        final long now = timeline.nanoTime();
        final StringBuilder sb = new StringBuilder("cross-core call missed its deadline of ")
            .append(millis(deadlineNanos)).append(" ms");
        CpuSet ran = CpuSet.empty();
        CpuSet cancelled = CpuSet.empty();
        CpuSet running = CpuSet.empty();
        CpuSet notRun = CpuSet.empty();
        final StringBuilder still = new StringBuilder();
        for (int i = 0; i < call.count; i++) {
            final CallDescriptor d = call.descriptors[i];
            final int cpu = call.targets[i];
            if ((claimed != null && claimed[i]) || d.givenUp()) {
                cancelled = cancelled.with(cpu);
                notRun = notRun.with(cpu); // never runs it: claimed here, or by a cancel or a shutdown
            } else if (d.acked()) {
                ran = ran.with(cpu);
            } else {
                running = running.with(cpu);
                notRun = notRun.with(cpu); // it won the claim: it started, and finishes on its own
                final long started = d.startedAt;
                still.append("\n  running the function")
                    .append(started == 0 ? "" : " for " + millis(now - started) + " ms").append(": ");
                describe(still, machine.core(cpu));
            }
        }
        sb.append("; ran on ").append(ran).append(", cancelled (never run) on ").append(cancelled)
            .append(", still running on ").append(running).append(still);
        final CallTimeoutException e = new CallTimeoutException(notRun, ran, cancelled, running,
            Duration.ofNanos(deadlineNanos), sb.toString());
        final RuntimeException outcome = future == null ? null : orClosed(e);
        if (claimed != null) {
            if (outcome != null) {
                call.expired(outcome); // the last answer completes the future with it, after giving the room back
            }
            call.answerClaimed(claimed, e);
        }
        if (outcome != null) {
            // At the deadline even if a target still runs (a no-op if the last answer above completed
            // it). After the claimed shares gave their room back: a client that sees the failure
            // and calls again must find the room its cancelled shares held.
            future.finishExceptionally(outcome);
        }
        return e;
    }

    /**
     * {@code e} as the one exception of a call abandoned because the machine is shutting down:
     * a {@link MachineClosedException} caused by it (naming the targets that ran) if the machine
     * is closed, else {@code e} itself.
     */
    RuntimeException orClosed(final CallTimeoutException e) {
        if (!machine.isClosed()) {
            return e;
        }
        final MachineClosedException closed = new MachineClosedException("machine " + machine.name()
            + " is shutting down; the cross-core call was abandoned: " + e.getMessage(), e.ran());
        closed.initCause(e);
        return closed;
    }

    /** {@return the watchdog period, in nanoseconds} */
    long watchdogNanos() {
        return watchdogNanos;
    }

    private static long millis(final long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** What each target that did not run the function was doing, as the exception the caller gets. */
    private CallTimeoutException timeout(final Call call) {
        final StringBuilder sb = new StringBuilder("cross-core call not acknowledged after ")
            .append(TimeUnit.NANOSECONDS.toMillis(2 * watchdogNanos)).append(" ms (IPI re-sent once); silent cores:");
        CpuSet silent = CpuSet.empty();
        CpuSet ran = CpuSet.empty();
        CpuSet running = CpuSet.empty();
        CpuSet unreached = CpuSet.empty();
        CpuSet givenUp = CpuSet.empty();
        for (int i = 0; i < call.count; i++) {
            final CallDescriptor d = call.descriptors[i];
            final boolean answered = d.acked(); // acquire: skipped, written before the ack, is visible
            if (answered && !d.skipped) {
                ran = ran.with(call.targets[i]);
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
            if (d.running()) {
                running = running.with(cpu);
            }
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
        return new CallTimeoutException(silent, ran, CpuSet.empty(), running, Duration.ofNanos(2 * watchdogNanos),
            sb.toString());
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
        return new CallTimeoutException(cores, CpuSet.empty(), CpuSet.empty(), cores, Duration.ofNanos(2 * watchdogNanos),
            sb.toString());
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
