package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;
import java.util.Objects;

import org.ipi4j.api.InternalApi;
import org.ipi4j.time.Timeline;

/**
 * A core seen as a virtual CPU: the host can deschedule it (a vCPU whose host thread is off CPU),
 * and its paravirtual state word carries {@link #PREEMPTED} and {@link #FLUSH_PENDING} together,
 * as KVM's {@code steal_time.preempted} does, so that one atomic operation decides both.
 *
 * <h2>Protocol</h2>
 * <ul>
 *   <li>The host asks: {@link #preempt(long)} (for a time slice that starts when the core stops,
 *       or until {@link #resume()}).</li>
 *   <li>The core stops at its next instruction boundary ({@link #stopIfRequested}): it publishes
 *       {@link #PREEMPTED} with a read-modify-write, then parks until the request ends. So
 *       {@code PREEMPTED} means "stopped, translating nothing", never "asked to stop".</li>
 *   <li>A TLB shootdown that finds a target preempted sets {@link #FLUSH_PENDING} with one CAS
 *       ({@link #flagFlushIfPreempted}) instead of sending an IPI, and does not wait for it.</li>
 *   <li>The core resumes by clearing both bits with one {@code getAndSet(0)}; if a flush was
 *       pending it runs the flush before anything else.</li>
 * </ul>
 * Why a resuming core never uses a translation older than a shootdown that flagged it: the
 * initiator's page-table stores, its generation bump and its CAS come before the core's
 * {@code getAndSet} in the synchronization order if the CAS succeeded (the CAS needed PREEMPTED,
 * which only that getAndSet clears), so the core sees FLUSH_PENDING, flushes, and every later walk
 * happens-after the page-table stores. If the CAS failed, the core was running and the initiator
 * sends the IPI as usual. jcstress: {@code PvFlushSafety}.
 *
 * <p>Thread-safety: {@link #preempt}, {@link #resume}, {@link #flagFlushIfPreempted} and the
 * observers may be called from any thread; {@link #stopIfRequested} only by the owning core.
 */
public final class Vcpu {
    /** State bit: the core is stopped at a boundary by the host. */
    public static final int PREEMPTED = 1;
    /** State bit: a TLB flush must run before the core runs anything again. */
    public static final int FLUSH_PENDING = 2;
    /** {@link #preempt(long)} for this long lasts until {@link #resume()}. */
    public static final long UNTIL_RESUMED = Long.MAX_VALUE;

    private static final VarHandle STATE;
    private static final VarHandle REQUEST;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Vcpu.class, "state", int.class);
            REQUEST = l.findVarHandle(Vcpu.class, "requested", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int cpu;
    /** PREEMPTED | FLUSH_PENDING. */
    private volatile int state;
    /** 0: no request; else how long the preemption lasts once the core stops, or UNTIL_RESUMED. */
    private volatile long requested;
    private volatile Thread owner;
    private final LongAdder preemptions = new LongAdder();
    private final LongAdder pvFlushes = new LongAdder();
    private final LongAdder stolenNanos = new LongAdder();
    /** Time slices and the stopped core's sleep: the host's, or a simulation's. */
    private final Timeline timeline;

    /**
     * The vCPU state of core {@code cpu}, running.
     *
     * @param cpu the core's id
     * @param timeline the machine's time and parking
     */
    @InternalApi
    public Vcpu(final int cpu, final Timeline timeline) {
        this.cpu = cpu;
        this.timeline = Objects.requireNonNull(timeline, "timeline");
    }

    /** {@return the core this state belongs to} */
    public int cpu() {
        return cpu;
    }

    /**
     * Binds the core's thread (to be woken by {@link #resume()}). Owner only, once.
     *
     * @param thread the core's thread
     */
    @InternalApi
    public void bind(final Thread thread) {
        owner = thread;
    }

    // ---- the host ------------------------------------------------------------------------------

    /**
     * Asks the core to stop at its next instruction boundary and stay stopped for
     * {@code nanos} from then (a host time slice starts when the vCPU is descheduled), or until
     * {@link #resume()} for {@link #UNTIL_RESUMED}. A request replaces one not yet taken. Any thread.
     *
     * @param nanos how long, positive, or {@link #UNTIL_RESUMED}
     */
    @InternalApi
    public void preempt(final long nanos) {
        if (nanos <= 0) {
            throw new IllegalArgumentException("nanos must be positive, not " + nanos);
        }
        REQUEST.setVolatile(this, nanos);
        final Thread t = owner;
        if (t != null) {
            timeline.unpark(t); // an idle core must come to a boundary to stop
        }
    }

    /** Ends a preemption (or a request not yet taken): the core runs again. Any thread. */
    @InternalApi
    public void resume() {
        REQUEST.setVolatile(this, 0L);
        final Thread t = owner;
        if (t != null) {
            timeline.unpark(t);
        }
    }

    /**
     * {@return true while a preemption is asked for or under way (read at boundaries)} A volatile
     * load: it is also the re-check of the idle handshake (Core's work-available test after the
     * core published PARKED; partner: preempt's volatile store, then its wake of the core).
     */
    @InternalApi
    public boolean requested() {
        return (long) REQUEST.getVolatile(this) != 0;
    }

    // ---- the initiator of a shootdown ----------------------------------------------------------

    /**
     * PV TLB flush: if the core is preempted, marks a flush pending for its resume and returns
     * true (no IPI needed, nothing to wait for); if it runs, returns false (send the IPI). A
     * volatile read-modify-write; partner: the core's {@code getAndSet} in {@link #stopIfRequested}.
     *
     * @return true if the flush was left to the core's resume
     */
    @InternalApi
    public boolean flagFlushIfPreempted() {
        for (;;) {
            final int s = state;
            if ((s & PREEMPTED) == 0) {
                return false;
            }
            if ((s & FLUSH_PENDING) != 0 || STATE.compareAndSet(this, s, s | FLUSH_PENDING)) {
                pvFlushes.increment();
                return true;
            }
        }
    }

    // ---- the core itself -----------------------------------------------------------------------

    /**
     * At an instruction boundary: if the host asked, stops here until the preemption ends, then
     * runs {@code flush} if a shootdown left one pending, before returning. Owner only.
     *
     * @param flush runs on this core before it runs anything else, if a flush is pending
     * @return true if the core was preempted
     */
    @InternalApi
    public boolean stopIfRequested(final Runnable flush) {
        long slice = (long) REQUEST.getOpaque(this);
        if (slice == 0) {
            return false;
        }
        final long start = timeline.nanoTime();
        STATE.getAndBitwiseOr(this, PREEMPTED); // stopped: from here on, shootdowns may flag instead of interrupt
        preemptions.increment();
        long until = slice == UNTIL_RESUMED ? UNTIL_RESUMED : start + slice;
        for (;;) {
            final long now = (long) REQUEST.getVolatile(this);
            if (now == 0) {
                break; // resumed
            }
            if (now != slice) { // replaced by a new request: a new slice from now
                slice = now;
                until = slice == UNTIL_RESUMED ? UNTIL_RESUMED : timeline.nanoTime() + slice;
            }
            if (until == UNTIL_RESUMED) {
                timeline.park(this);
            } else {
                final long left = until - timeline.nanoTime();
                if (left <= 0) {
                    if (REQUEST.compareAndSet(this, slice, 0L)) {
                        break; // the slice is over
                    }
                    continue; // resumed or replaced meanwhile
                }
                timeline.parkNanos(this, left);
            }
        }
        // One RMW clears PREEMPTED and takes FLUSH_PENDING: a shootdown either flagged us before
        // (we flush now) or finds us running after (and sends the IPI).
        final int was = (int) STATE.getAndSet(this, 0);
        if ((was & FLUSH_PENDING) != 0) {
            flush.run();
        }
        stolenNanos.add(timeline.nanoTime() - start);
        return true;
    }

    // ---- observers -----------------------------------------------------------------------------

    /** {@return true while the core is stopped by the host} */
    public boolean isPreempted() {
        return (state & PREEMPTED) != 0;
    }

    /** {@return the state word: {@link #PREEMPTED} and {@link #FLUSH_PENDING} bits} */
    public int state() {
        return state;
    }

    /** {@return how many times the core was preempted} */
    public long preemptions() {
        return preemptions.sum();
    }

    /** {@return shootdowns that flagged this core instead of interrupting it} */
    public long pvFlushes() {
        return pvFlushes.sum();
    }

    /** {@return nanoseconds the core spent preempted (steal time)} */
    public long stolenNanos() {
        return stolenNanos.sum();
    }
}
