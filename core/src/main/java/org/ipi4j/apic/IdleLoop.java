package org.ipi4j.apic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.BooleanSupplier;

import org.agrona.concurrent.IdleStrategy;
import org.ipi4j.api.InternalApi;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.observability.CoreParkedEvent;
import org.ipi4j.time.Timeline;
import org.jctools.util.PaddedAtomicLong;

/** Cache lines of padding before the idle state word (JCTools-style padding by inheritance). */
abstract class IdleLoopPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07;
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

/**
 * The one word every sender reads: 1 while the core is parked or about to park. Only the parking
 * path writes it, so a core that runs or polls never invalidates the senders' copy of this line.
 */
abstract class IdleLoopState extends IdleLoopPadBefore {
    volatile int parked;
    /**
     * Time, parking and waking: the host's, or a simulation's. Written once, on the line every
     * waker reads anyway, away from the fields the owner writes while it runs.
     */
    final Timeline timeline;
    /** A simulation's interleaving points and an injected lost wake-up (see DeliveryProbe); on the same line. */
    final DeliveryProbe probe;

    IdleLoopState(final Timeline timeline, final DeliveryProbe probe) {
        this.timeline = Objects.requireNonNull(timeline, "timeline");
        this.probe = Objects.requireNonNull(probe, "probe");
    }
}

/** Cache lines of padding after it, so owner-written fields never share its line. */
abstract class IdleLoopPadAfter extends IdleLoopState {
    long q00, q01, q02, q03, q04, q05, q06, q07;
    long q10, q11, q12, q13, q14, q15, q16, q17;

    IdleLoopPadAfter(final Timeline timeline, final DeliveryProbe probe) {
        super(timeline, probe);
    }
}

/**
 * How one core waits for work and how it is woken: both halves of the wait/wake handshake in one
 * place, as the Disruptor's {@code WaitStrategy} holds {@code waitFor} and
 * {@code signalAllWhenBlocking}.
 *
 * <h2>The handshake (no lost wake-up)</h2>
 * <pre>
 *   waiting core (owner thread)                 waker (any thread)
 *   parked = 1              (volatile store)    publish the work    (volatile RMW / store)
 *   look at the work again  (volatile loads)    read parked         (volatile load)
 *   nothing? park                               1? unpark
 * </pre>
 * Both sides store then load, and every access is volatile, so the Java memory model's total order
 * over them guarantees at least one side sees the other: either the core finds the work and does
 * not park, or the waker sees PARKED and unparks. Acquire/release alone would not do (that is the
 * store-buffering pattern, which release/acquire allows to fail: both may read the old values).
 * {@link #prepareToPark} is the waiting half and {@link #wake()} the waking half; the jcstress test
 * {@code IdleHandshake} drives exactly these two methods.
 *
 * <p>A polling core never needs waking: a waker that reads {@code parked == 0} makes no system
 * call (an elided wake-up); if the core then parks, its re-check finds the work. What the core is
 * doing for observers ({@link #state()}: running, polling, parked) is a separate, owner-written
 * word published with opaque stores: a core that spins and takes interrupts writes it often, and
 * keeping it off the {@code parked} line keeps those writes away from every sender.
 *
 * <p>Thread-safety: {@link #idleUntil} and the state transitions belong to the owner thread;
 * {@link #wake()}, {@link #state()} and the counters may be used from any thread.
 */
@InternalApi
public final class IdleLoop extends IdleLoopPadAfter {
    /** The waker's work of unparking the core, priced by a simulation's cost model ({@code CostModel.UNPARK}). */
    private static final Timeline.Work UNPARK = Timeline.Work.named("unpark");

    /** The machine has not started the core. */
    public static final int NEW = 0;
    /** Running a task, a program or a handler. */
    public static final int RUNNING = 1;
    /** Idle and polling: it notices work by itself. */
    public static final int POLLING = 2;
    /** Idle and parked (or about to park): a waker must unpark it. */
    public static final int PARKED = 3;
    /** The core's thread has ended. */
    public static final int HALTED = 4;
    /** Deadline meaning "none" for {@link #idleUntil}. */
    public static final long NO_DEADLINE = Long.MIN_VALUE;

    private static final VarHandle ACTIVITY;

    static {
        try {
            ACTIVITY = MethodHandles.lookup().findVarHandle(IdleLoop.class, "activity", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** What the core is doing, for observers only: owner-written, opaque. */
    @SuppressWarnings("unused")
    private int activity = NEW;
    private final long pollRounds;
    private final IdleStrategy pollingStrategy;
    private final int cpu;
    private volatile Thread owner;
    /**
     * Wake-ups that needed an unpark, and wake-ups that needed none (the core was running or
     * polling): many wakers add to them on every send, so each is a JCTools padded count on a
     * cache line of its own. Unpadded, such a count sat next to whatever was allocated after it
     * (the core's registers in {@link CpuContext}, which the core writes at every interrupt),
     * and every send pulled that line away from the receiving core.
     */
    final PaddedAtomicLong unparks = new PaddedAtomicLong();
    final PaddedAtomicLong elided = new PaddedAtomicLong();

    /**
     * An idle loop on the host, polling as {@code policy} says, for tests and the stress suite.
     *
     * @param policy how the core waits
     */
    public IdleLoop(final IdlePolicy policy) {
        this(policy, 0, policy.pollRoundsBeforePark(), DeliveryProbe.HOST, Timeline.real());
    }

    /**
     * The idle loop of core {@code cpu}, with its policies passed in by the port that owns it.
     *
     * @param policy the polling strategy
     * @param cpu the core's id
     * @param pollRounds rounds of {@code policy}'s strategy before parking (a simulation gives 0)
     * @param probe the interleaving points before and inside the park, and injected lost wake-ups
     * @param timeline the machine's time and parking
     */
    IdleLoop(final IdlePolicy policy, final int cpu, final long pollRounds, final DeliveryProbe probe,
             final Timeline timeline) {
        super(timeline, probe);
        this.pollRounds = pollRounds;
        this.pollingStrategy = policy.pollingStrategy();
        this.cpu = cpu;
    }

    /**
     * Binds the loop to the thread that will wait in it; called once, by that thread.
     *
     * @param thread the thread
     */
    public void bind(final Thread thread) {
        owner = thread;
        ACTIVITY.setOpaque(this, RUNNING);
    }

    /**
     * What the core is doing, a recent value for observers: {@link #NEW}, {@link #RUNNING},
     * {@link #POLLING}, {@link #PARKED} or {@link #HALTED}. Wakers do not use it.
     *
     * @return one of the state constants of this class
     */
    public int state() {
        return (int) ACTIVITY.getAcquire(this);
    }

    /** Marks the owner's thread as ended. Owner only. */
    public void halted() {
        ACTIVITY.setOpaque(this, HALTED);
    }

    /**
     * Waits until {@code done} holds or the timeline's clock passes {@code deadlineNanos}
     * ({@link #NO_DEADLINE} for none): polls the way the idle policy says, then parks, published by
     * {@link #prepareToPark}. Owner only. {@code done} must read what wakers publish with volatile
     * (or stronger) loads; it is called again after PARKED is published.
     *
     * @param deadlineNanos the deadline on the timeline's clock
     * @param done the condition the core waits for, read after each wake-up
     */
    public void idleUntil(final BooleanSupplier done, final long deadlineNanos) {
        pollingStrategy.reset();
        long rounds = 0;
        beginPolling();
        try {
            while (!done.getAsBoolean()) {
                final long left = deadlineNanos == NO_DEADLINE ? Long.MAX_VALUE : deadlineNanos - timeline.nanoTime();
                if (left <= 0) {
                    return;
                }
                if (rounds < pollRounds) {
                    pollingStrategy.idle();
                    rounds++;
                    continue;
                }
                probe.interleave(); // a simulation may run a waker between our look and PARKED
                if (prepareToPark(done)) {
                    final CoreParkedEvent jfr = CoreParkedEvent.startIfEnabled(); // null unless recorded
                    if (deadlineNanos == NO_DEADLINE) {
                        timeline.park(this);
                    } else {
                        timeline.parkNanos(this, left);
                    }
                    if (jfr != null) {
                        jfr.finish(cpu, deadlineNanos != NO_DEADLINE);
                    }
                } else {
                    return;
                }
            }
        } finally {
            if (parked != 0) {
                parked = 0; // only the parking path writes the line senders read
            }
            ACTIVITY.setOpaque(this, RUNNING);
        }
    }

    /** Publishes POLLING for observers (wakers make no system call for a core that has not parked). Owner only. */
    public void beginPolling() {
        ACTIVITY.setOpaque(this, POLLING);
    }

    /**
     * The waiting half of the handshake: publishes PARKED, then looks at {@code done} again.
     * Partner accesses: the waker's publication of its work, then its read of the state in
     * {@link #wake()}. Owner only.
     *
     * @param done the condition the core waits for
     * @return true if the caller must park (nothing arrived), false if {@code done} now holds
     */
    public boolean prepareToPark(final BooleanSupplier done) {
        parked = 1;                  // volatile store: ordered before the loads in done
        probe.interleave();          // a simulation may run a waker between the store and the re-check
        // Released after the flag: an observer that reads PARKED (acquire) and then wakes us
        // finds parked == 1, so its wake-up is not elided.
        ACTIVITY.setRelease(this, PARKED);
        return !done.getAsBoolean(); // volatile loads of the work
    }

    /**
     * The waking half of the handshake: call it after publishing work the core waits for (with a
     * volatile store or read-modify-write). Unparks the core if it is parked; makes no system call
     * if it is running or polling. Any thread.
     *
     * @return true if the core was parked and was unparked
     */
    public boolean wake() {
        // No interleaving point between the waker's publication and this read: a simulation runs
        // sequentially consistent, where the core's split (between its PARKED store and its
        // re-check) already produces both orders, and this is the hottest line of every send.
        if (parked != 0) { // volatile load, after the caller's volatile publication
            if (probe.dropWakeup(cpu)) {
                return false; // an injected lost wake-up: the core sleeps on a pending bit
            }
            unparks.getAndIncrement();
            timeline.spend(UNPARK, 1); // the waker's system call (a simulation charges it; free by default)
            timeline.unpark(owner);
            return true;
        }
        elided.getAndIncrement();
        return false;
    }

    /** Unparks the owner whatever its state (shutdown). Any thread. */
    public void wakeUnconditionally() {
        final Thread t = owner;
        if (t != null) {
            timeline.unpark(t);
        }
    }

    /** {@return true if the core is parked or about to park (volatile: a waker's decision)} */
    public boolean isParked() {
        return parked != 0;
    }

    /** {@return wake-ups that needed an unpark} */
    public long unparkWakeups() {
        return unparks.get();
    }

    /** {@return wake-ups that needed none} */
    public long elidedWakeups() {
        return elided.get();
    }
}
