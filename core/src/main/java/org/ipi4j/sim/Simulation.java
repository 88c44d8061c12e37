package org.ipi4j.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.ipi4j.time.Timeline;

/**
 * A deterministic, seeded, virtual-time {@link Timeline}: the same machine, cores, cross-calls and
 * shootdowns as on the host, run one thread at a time in an order a seeded scheduler chooses.
 *
 * <h2>How it runs</h2>
 * Each core keeps its own platform thread, but only one thread (the one holding the baton) runs
 * at a time; every other one is parked. The holder runs until it reaches the timeline: a park
 * (an idle core, a caller waiting), a {@link #spend} of simulated work (a send, an interrupt
 * entry, a TLB flush, a spin round), or an {@link #interleave()} point. There the scheduler picks
 * the next thread: the one whose virtual time comes first, ties broken by the seeded random
 * generator, and hands the baton over. Virtual time is the picked thread's time, so
 * {@link #nanoTime()} never goes back. A wake-up ({@link #unpark}) makes the woken core runnable
 * after the {@link CostModel#latency delivery latency} between the two cores. Machines with more
 * cores than the host has CPUs are fine: all but one thread are parked.
 *
 * <p>Because only the holder runs and every hand-over is a volatile write and read of the
 * holder, the whole run is one sequential execution: given the seed (and the same code and
 * inputs), the same interleaving and the same result follow. {@link #trace()} is a hash of every
 * scheduling decision, for checking that. With {@link Builder#jitter} and
 * {@link Builder#interleaving} (or {@link Builder#pct}, below) the scheduler perturbs costs and
 * switches cores at the interleaving points (the idle loop's handshake, a page walk and its TLB
 * fill, a shootdown's published flags, the closing protocol's steps, an interrupt taken and its
 * handler), so different seeds explore different schedules.
 *
 * <h2>Exploring schedules: PCT</h2>
 * {@link Builder#pct(int, long) pct(d, k)} turns the interleaving points into the steps of
 * probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010). Each party (every core and
 * the outside caller) gets a random distinct priority {@code d .. d + n - 1}, and {@code d - 1}
 * step numbers are drawn from {@code 1 .. k}. At every {@link #interleave()} of the baton's holder
 * the step count goes up; at the i-th change point the holder's priority drops to {@code i}, below
 * every initial one. Then, if a runnable party has a higher priority, the holder stops where it
 * is, in no queue and with its virtual time standing, and stays stopped until, at some later
 * hand-over, no runnable party outranks it; it then goes on at that hand-over's virtual time (as a
 * descheduled thread would). Runnable means: stopped the same way, or ready in virtual time
 * (after a wake-up or a {@link #spend}) and not spinning. A party that spun or yielded twice since
 * its last spend or park is waiting for someone, maybe for the stopped one, so it holds no one
 * back, and a spin loop cannot starve what it waits for (one round alone is an instruction
 * boundary's time, not a wait). Parked parties (an idle core, a waiting caller, a timed wait) stay
 * parked: priorities decide only between parties that could run. Everything else is as without
 * PCT: the hand-overs at a park, a spend, a spin or a yield run whoever is due first in virtual
 * time. The priorities and change points come from the seed, so the same seed gives the same
 * trace. In the paper's model a bug needing {@code d} ordering constraints is found by one seed
 * with probability at least {@code 1 / (n k^(d-1))} for {@code n} parties; here virtual time and
 * the spinning rule bend that model, so take the bound as a guide to choosing {@code d} and
 * {@code k}, not as a guarantee; {@link #steps()} gives a run's k.
 *
 * <h2>What is and is not modelled</h2>
 * Every idle core parks at once (a polling policy would only spin in virtual time; the delivery
 * latency stands for noticing). A busy core sees a new interrupt at its next boundary, without
 * delivery latency. A {@code Core.checkpoint()} and a program instruction cost one spin round,
 * so a task that loops on checkpoints lets the others run. Fault injection, pinning and real
 * blocking (a {@code Future.get}, a lock, a sleep) are outside the simulation: a thread that
 * blocks for real while holding the baton stops every other, and the stall watchdog
 * ({@link Builder#stallTimeout}) fails the run naming it.
 *
 * <h2>Sharing host CPUs</h2>
 * With {@link CostModel#hostCpus()} {@code H} above 0 the cores (and the outside caller) share
 * {@code H} host CPUs. A party wants a CPU while it is runnable: running, ready (woken, or after a
 * spend) or stopped by PCT; not while parked. Two charges follow, both of
 * {@link CostModel#contextSwitch()}: a wake-up of a parked core while at least {@code H} parties
 * are runnable makes it ready that much later (it waits to be switched in), and a spin or yield
 * round while more than {@code H} are runnable costs it instead of the spin's price (the spinner
 * gives its CPU away and sees the flag it waits for only once it is back). Nothing else changes;
 * with {@code H} 0, the default, nothing is charged and no random draw is added, so every
 * schedule and trace is as without it. Not modelled: time slices (a busy core is never preempted
 * by the host) and which CPU a party ran on.
 *
 * <h2>Use</h2>
 * <pre>{@code
 * Simulation sim = Simulation.builder().seed(42).build();
 * try (Machine m = Machine.builder().cores(256).simulation(sim).build().start()) {
 *     SmpCall smp = SmpCall.install(m);
 *     long nanos = sim.run(() -> sim.await(m.core(0).submit(() -> {
 *         long t0 = sim.nanoTime();
 *         smp.onEachCore(cpu -> { });
 *         return sim.nanoTime() - t0;
 *     })));
 * }
 * }</pre>
 * {@link #run} executes its body on the calling thread as the machine's outside caller, in
 * virtual time, and returns once the body has returned and every core it woke is idle again.
 * A failure (a deadlock, a stall) is a {@link SimulationException} that names the seed.
 *
 * <p>Thread-safety: one {@link #run} at a time; the timeline methods are called by the
 * machine's threads. A simulation serves one machine.
 */
public final class Simulation extends Timeline {
    private static final int DETACHED = 0;
    private static final int RUNNING = 1;
    private static final int READY = 2;
    private static final int PARKED = 3;
    /** PCT: stopped at an interleaving point until no runnable party outranks it; in no queue. */
    private static final int PREEMPTED = 4;
    private static final long NONE = Long.MIN_VALUE;
    /**
     * PCT: a party is waiting (spinning) after this many spin or yield rounds since its last spend
     * or park; one round alone is an instruction boundary's time ({@code Core.checkpoint()}), not a
     * wait.
     */
    private static final int SPINNING = 2;

    /** One scheduled thread: a core, or the outside caller of a run. State guarded by the simulation's lock. */
    private static final class Party {
        final int id;
        /** The core id, or -1 for the outside caller. */
        final int cpu;
        volatile Thread thread;
        int state = DETACHED;
        boolean permit;
        /** Bumped at every state change: a queued event with an older stamp is stale. */
        int stamp;
        /** PCT: the higher runs first at an interleaving point. */
        int priority;
        /**
         * PCT: spin or yield rounds since its last spend or park (interleaving points between do
         * not count: a wait loop has them too): from {@link #SPINNING} on it waits for someone, so
         * it holds no one back.
         */
        int spins;

        Party(final int id, final int cpu) {
            this.id = id;
            this.cpu = cpu;
        }
    }

    /** A party becoming runnable (ready, or a timed park running out) at a virtual time. */
    private record Event(long at, long tie, Party party, int stamp) implements Comparable<Event> {
        @Override
        public int compareTo(final Event o) {
            final int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(tie, o.tie);
        }
    }

    private final long seed;
    private final CostModel costs;
    /** The model's host CPUs (0: one per core, nothing charged for sharing). */
    private final int hostCpus;
    private final double jitter;
    private final double interleaving;
    private final long stallNanos;
    private final SplittableRandom random;
    /** PCT's bug depth d (0: PCT off) and expected step count k. */
    private final int pctDepth;
    private final long pctSteps;
    /** PCT: the step numbers (1 to k) at which the holder's priority drops, and the priority it drops to. */
    private final long[] changeSteps;
    private final int[] changePriorities;
    /** PCT: interleaving points passed by a holder so far (the steps of the change points). */
    private long steps;
    /** PCT: the parties stopped at an interleaving point. */
    private final ArrayList<Party> preempted = new ArrayList<>();
    private final ConcurrentHashMap<Thread, Party> byThread = new ConcurrentHashMap<>();
    private final PriorityQueue<Event> ready = new PriorityQueue<>();
    private final PriorityQueue<Event> timers = new PriorityQueue<>();
    private final ThreadLocal<Party> self = new ThreadLocal<>();
    private Party[] parties;
    private Party caller;
    private String machineName;

    /** The baton: the only party that runs. Null between runs. */
    private volatile Party current;
    private volatile long now;
    private volatile boolean released;
    private volatile SimulationException failure;
    /** Written under the lock; volatile for the watchdog, which reads it without. */
    private volatile boolean inRun;
    private boolean draining;
    private Thread watchdog;
    private long trace = 0xcbf29ce484222325L;
    private volatile long switches;
    /** Scheduling decisions so far (a switch or not): the watchdog's sign of progress. */
    private volatile long decisions;

    private Simulation(final Builder b) {
        this.seed = b.seed;
        this.costs = b.costs;
        this.hostCpus = b.costs.hostCpus();
        this.jitter = b.jitter;
        this.interleaving = b.interleaving;
        this.stallNanos = b.stall.toNanos();
        this.random = new SplittableRandom(b.seed);
        this.pctDepth = b.pctDepth;
        this.pctSteps = b.pctSteps;
        // PCT's d - 1 change points: distinct steps in [1, k]; the i-th drawn lowers to priority i
        // (below every initial priority, which are d and up), as in Burckhardt et al.
        final int changes = Math.max(0, pctDepth - 1);
        this.changeSteps = new long[changes];
        this.changePriorities = new int[changes];
        for (int i = 0; i < changes; i++) {
            long step;
            boolean fresh;
            do {
                step = 1 + random.nextLong(pctSteps);
                fresh = true;
                for (int j = 0; j < i; j++) {
                    fresh &= changeSteps[j] != step;
                }
            } while (!fresh);
            changeSteps[i] = step;
            changePriorities[i] = i + 1;
        }
    }

    /** {@return a builder: seed 0, default costs, no jitter, no extra interleaving} */
    public static Builder builder() {
        return new Builder();
    }

    // =====================================================================================
    // Binding and observation
    // =====================================================================================

    /**
     * Binds this simulation to a machine of {@code cores} cores; the machine's builder calls it.
     *
     * @param name the machine's name, for messages
     * @param cores its core count
     * @throws IllegalStateException if the simulation already serves a machine
     */
    public synchronized void bind(final String name, final int cores) {
        Objects.requireNonNull(name, "name");
        if (parties != null) {
            throw new IllegalStateException("simulation (seed " + seed + ") already serves machine " + machineName
                + "; build one simulation per machine");
        }
        this.machineName = name;
        this.parties = new Party[cores];
        for (int i = 0; i < cores; i++) {
            parties[i] = new Party(i, i);
        }
        this.caller = new Party(cores, -1);
        if (pctDepth > 0) {
            // PCT's initial priorities: d, d + 1, ..., d + n - 1 over the n parties, in a random order.
            final Party[] all = Arrays.copyOf(parties, cores + 1);
            all[cores] = caller;
            for (int i = all.length - 1; i > 0; i--) {
                final int j = random.nextInt(i + 1);
                final Party t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
            for (int i = 0; i < all.length; i++) {
                all[i].priority = pctDepth + i;
            }
        }
    }

    /** {@return the seed: the same seed replays the same schedule} */
    public long seed() {
        return seed;
    }

    /** {@return the cost model} */
    public CostModel costs() {
        return costs;
    }

    /** {@return a hash of every scheduling decision so far (who ran, at what virtual time)} */
    public synchronized long trace() {
        return trace;
    }

    /** {@return how many times the baton changed hands so far} */
    public long switches() {
        return switches;
    }

    /**
     * {@return interleaving points the baton's holder passed so far, with {@link Builder#pct} on
     * (0 otherwise)}: PCT's steps, to choose its expected step count {@code k} from a run.
     */
    public synchronized long steps() {
        return steps;
    }

    /** {@return how to replay this simulation: its seed and knobs} */
    public String replay() {
        return "Simulation.builder().seed(" + seed + "L).jitter(" + jitter + ")"
            + (pctDepth > 0 ? ".pct(" + pctDepth + ", " + pctSteps + ")" : ".interleaving(" + interleaving + ")");
    }

    // =====================================================================================
    // Runs
    // =====================================================================================

    /**
     * Runs {@code body} on the calling thread, as the machine's outside caller, in virtual time;
     * returns its result once it has returned and every core it set going is idle again. The
     * machine must be started. Inside the body, wait for a future with {@link #await}, never with
     * {@code get()} (a real wait stops the simulation).
     *
     * @param body what to run
     * @param <T> its result type
     * @return the body's result
     * @throws SimulationException if the run deadlocked or stalled (the message names the seed)
     * @throws Exception whatever the body threw
     */
    public <T> T run(final Callable<T> body) throws Exception {
        Objects.requireNonNull(body, "body");
        enterRun();
        T result = null;
        Throwable thrown = null;
        try {
            result = body.call();
        } catch (Throwable t) {
            thrown = t;
        }
        leaveRun();
        final SimulationException f = failure;
        if (f != null) {
            if (thrown != null && thrown != f) {
                f.addSuppressed(thrown);
            }
            throw f;
        }
        if (thrown instanceof Exception e) {
            throw e;
        }
        if (thrown instanceof Error e) {
            throw e;
        }
        return result;
    }

    /**
     * Waits in virtual time until {@code future} completes, then returns its value: the outside
     * caller's {@code get()} inside a {@link #run}.
     *
     * @param future the future, completed by a core
     * @param <T> its value type
     * @return its value
     * @throws ExecutionException if it failed
     */
    public <T> T await(final CompletableFuture<T> future) throws ExecutionException {
        Objects.requireNonNull(future, "future");
        final Thread me = Thread.currentThread();
        if (!future.isDone()) {
            future.whenComplete((r, e) -> unpark(me));
            while (!future.isDone()) {
                checkFailure();
                park(future);
            }
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void enterRun() {
        synchronized (this) {
            if (parties == null) {
                throw new IllegalStateException("simulation (seed " + seed + ") serves no machine: pass it to "
                    + "Machine.Builder.simulation and start the machine");
            }
            checkFailure();
            if (released) {
                throw new IllegalStateException("simulation (seed " + seed + ") has ended: its machine shut down");
            }
            if (inRun) {
                throw new IllegalStateException("simulation (seed " + seed + ") is already running; one run at a time");
            }
            // Every core must be at its first park (or idle after the last run) before we decide anything.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!allCoresParked()) {
                final long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("machine " + machineName + " has cores that did not reach their "
                        + "idle loop within 30 s: start the machine before a run");
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            inRun = true;
            draining = false;
            caller.thread = Thread.currentThread();
            caller.permit = false;
            caller.state = RUNNING;
            caller.stamp++;
            byThread.put(caller.thread, caller);
            self.set(caller);
            current = caller;
        }
        startWatchdog();
    }

    private void leaveRun() {
        synchronized (this) {
            if (!released && current == caller) {
                caller.state = DETACHED;
                caller.stamp++;
                draining = true; // run whoever is ready; timed waits stay for the next run
                handOff(caller);
                while (current != null && !released) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            byThread.remove(caller.thread);
            self.remove();
            caller.thread = null;
            current = null;
            inRun = false;
        }
    }

    private boolean allCoresParked() {
        for (final Party p : parties) {
            if (p.state != PARKED && p.state != READY) { // not yet at the timeline (or still running for real)
                return false;
            }
        }
        return true;
    }

    private void checkFailure() {
        final SimulationException f = failure;
        if (f != null) {
            throw f;
        }
    }

    /**
     * Ends the simulation: from now on the timeline is the real one for every thread (the
     * machine's shutdown calls this, so that its cores can stop). Idempotent.
     */
    public void end() {
        synchronized (this) {
            released = true;
            current = null;
            notifyAll();
        }
        unparkAll();
    }

    private void unparkAll() {
        if (parties != null) {
            for (final Party p : parties) {
                LockSupport.unpark(p.thread);
            }
        }
        final Party c = caller;
        if (c != null) {
            LockSupport.unpark(c.thread);
        }
    }

    /** Fails the run: the caller gets {@code why}; the machine's threads go on in real time. */
    private void fail(final String why) {
        synchronized (this) {
            if (failure == null) {
                failure = new SimulationException(why + " (virtual time " + now + " ns, seed " + seed + "; replay: "
                    + replay() + ")", seed);
            }
            released = true;
            current = null;
            notifyAll();
        }
        unparkAll();
    }

    // =====================================================================================
    // The scheduler (called with the lock held, by the holder)
    // =====================================================================================

    /** {@code me} has set its own state (ready at a time, parked, or detached): passes the baton. */
    private void handOff(final Party me) {
        final Party next = pick();
        if (next == null) {
            if (draining) {
                current = null; // the run's work is done
                notifyAll();
                return;
            }
            fail("deadlock in machine " + machineName + ": every core and the caller sleep with no wake-up or "
                + "deadline scheduled (a lost wake-up)");
            return;
        }
        next.state = RUNNING;
        next.stamp++;
        decisions++;
        trace = (trace ^ (((long) next.id << 40) ^ now)) * 0x100000001b3L;
        if (next != me) {
            switches++;
            current = next;
            LockSupport.unpark(next.thread);
        }
    }

    private Party pick() {
        if (!preempted.isEmpty()) {
            // PCT: the highest of the stopped parties goes on once no runnable party outranks it.
            Party best = preempted.get(0);
            for (final Party p : preempted) {
                if (p.priority > best.priority) {
                    best = p;
                }
            }
            if (!outranked(best)) {
                preempted.remove(best);
                return best; // it goes on at the current virtual time, which is past its stop
            }
        }
        for (;;) {
            Event r = ready.peek();
            while (r != null && r.stamp != r.party.stamp) {
                ready.poll();
                r = ready.peek();
            }
            Event t = draining ? null : timers.peek();
            while (t != null && t.stamp != t.party.stamp) {
                timers.poll();
                t = timers.peek();
            }
            if (r == null && t == null) {
                return null;
            }
            final Event e = t == null || (r != null && r.compareTo(t) <= 0) ? ready.poll() : timers.poll();
            if (e.at > now) {
                now = e.at;
            }
            return e.party;
        }
    }

    /**
     * PCT: whether a runnable party (ready, or stopped at an interleaving point) has a higher
     * priority than {@code me}. A spinning party is waiting for someone, perhaps for {@code me}:
     * it does not count, or a spin loop would hold back forever the party it waits for.
     */
    private boolean outranked(final Party me) {
        for (final Party q : parties) {
            if (q != me && q.priority > me.priority && runnable(q)) {
                return true;
            }
        }
        return caller != me && caller.priority > me.priority && runnable(caller);
    }

    private static boolean runnable(final Party q) {
        return q.state == PREEMPTED || (q.state == READY && q.spins < SPINNING);
    }

    private void schedule(final Party p, final long at) {
        p.state = READY;
        p.stamp++;
        ready.add(new Event(at, random.nextLong(), p, p.stamp));
    }

    private long jittered(final long cost) {
        if (jitter == 0 || cost == 0) {
            return cost;
        }
        return Math.max(0, Math.round(cost * (1 + jitter * (2 * random.nextDouble() - 1))));
    }

    /** Waits (really parked) until the baton is ours again, or the simulation is released. */
    private void awaitTurn(final Party me) {
        while (current != me && !released) {
            LockSupport.park(this);
        }
    }

    /** The calling thread's party, if it holds the baton of a live run; null otherwise (real behaviour). */
    private Party holder() {
        if (released) {
            return null;
        }
        final Party me = self.get();
        return me != null && current == me ? me : null;
    }

    /** One real-time watchdog per simulation, started by the first run, ended with the simulation. */
    private void startWatchdog() {
        final Thread w;
        synchronized (this) {
            if (stallNanos <= 0 || watchdog != null) {
                return;
            }
            w = new Thread(this::watch, "ipi4j-sim-watchdog-" + machineName);
            watchdog = w;
        }
        w.setDaemon(true);
        w.start();
    }

    private void watch() {
        long seen = -1;
        long since = System.nanoTime();
        while (!released) {
            final long s = decisions;
            if (s != seen || !inRun) {
                seen = s;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > stallNanos) {
                final Party p = current;
                final StringBuilder sb = new StringBuilder("stall in machine ").append(machineName)
                    .append(": no scheduling decision for ").append(TimeUnit.NANOSECONDS.toMillis(stallNanos))
                    .append(" ms of real time; the thread holding the baton waits outside the simulation (a real "
                        + "lock, sleep or Future.get?)");
                if (p != null && p.thread != null) {
                    sb.append(": ").append(p.thread.getName());
                    for (final StackTraceElement e : p.thread.getStackTrace()) {
                        sb.append("\n    at ").append(e);
                    }
                }
                fail(sb.toString());
                return;
            }
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100)); // real time: it watches the simulation from outside
        }
    }

    // =====================================================================================
    // The timeline
    // =====================================================================================

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public void park(final Object blocker) {
        park(blocker, NONE);
    }

    @Override
    public void parkNanos(final Object blocker, final long nanos) {
        if (nanos <= 0) {
            return;
        }
        park(blocker, nanos);
    }

    private void park(final Object blocker, final long nanos) {
        final Party me = self.get();
        if (me == null || released) {
            if (nanos == NONE) {
                LockSupport.park(blocker);
            } else {
                LockSupport.parkNanos(blocker, nanos);
            }
            return;
        }
        synchronized (this) {
            if (released) {
                return; // a spurious return: the caller re-checks, now in real time
            }
            me.spins = 0;
            if (me.permit) {
                me.permit = false;
                return;
            }
            me.state = PARKED;
            me.stamp++;
            if (nanos != NONE) {
                timers.add(new Event(now + Math.min(nanos, Long.MAX_VALUE / 4), random.nextLong(), me, me.stamp));
            }
            if (current == me) {
                handOff(me);
            } else {
                notifyAll(); // before a run: a core reached its idle loop
            }
        }
        awaitTurn(me);
        if (me == caller) {
            checkFailure();
        }
    }

    @Override
    public void unpark(final Thread thread) {
        if (thread == null) {
            return;
        }
        final Party target = byThread.get(thread);
        if (target == null || released) {
            LockSupport.unpark(thread);
            return;
        }
        final Party me = self.get();
        synchronized (this) {
            if (released) {
                LockSupport.unpark(thread);
                return;
            }
            if (current != null && current != me) {
                throw new IllegalStateException(Thread.currentThread().getName() + " woke " + thread.getName()
                    + " from outside simulation (seed " + seed + ")'s run: act on a simulated machine only inside run()");
            }
            if (target.state == PARKED) {
                final int from = me == null ? -1 : me.cpu;
                long delay = current == null ? 0 : jittered(costs.latency(from, target.cpu));
                if (current != null && hostCpus > 0 && runnable() >= hostCpus) {
                    delay += jittered(costs.contextSwitch()); // every host CPU is taken: it waits to be switched in
                }
                schedule(target, now + delay);
            } else {
                target.permit = true;
            }
        }
    }

    @Override
    public void spinWait() {
        final Party me = holder();
        if (me == null) {
            Thread.onSpinWait(); // outside a run, or not ours: a real spin
            return;
        }
        advance(me, jittered(oversubscribed() ? costs.contextSwitch() : costs.spin()), true);
    }

    /**
     * Whether more parties are runnable than the model's host CPUs (never with {@code hostCpus}
     * 0): a spinning or yielding one then gives its CPU away and looks again only when switched
     * back in.
     */
    private boolean oversubscribed() {
        if (hostCpus == 0) {
            return false; // the default: not even the lock
        }
        synchronized (this) {
            return runnable() > hostCpus;
        }
    }

    /** The parties that want a host CPU: running, ready or stopped by PCT (not parked, not detached). Lock held. */
    private int runnable() {
        int n = caller.state == RUNNING || caller.state == READY || caller.state == PREEMPTED ? 1 : 0;
        for (final Party p : parties) {
            if (p.state == RUNNING || p.state == READY || p.state == PREEMPTED) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void yieldCpu() {
        final Party me = holder();
        if (me == null) {
            Thread.yield();
            return;
        }
        advance(me, jittered(oversubscribed() ? costs.contextSwitch() : 10 * costs.spin()), true);
    }

    @Override
    public void spend(final Work work, final int units) {
        Objects.requireNonNull(work, "work");
        final Party me = holder();
        if (me != null && units > 0) {
            final long cost = (long) units * costs.price(work); // priced even when free: an unpriced kind is refused
            if (cost > 0) { // work that costs nothing is no scheduling point: a model that leaves it free keeps its schedules
                advance(me, jittered(cost), false);
            }
        }
    }

    @Override
    public void interleave() {
        if (pctDepth > 0) {
            pctStep();
            return;
        }
        final Party me = interleaving == 0 ? null : holder();
        if (me == null || random.nextDouble() >= interleaving) {
            return;
        }
        advance(me, random.nextLong(2 * costs.send() + 1), false);
    }

    /**
     * One PCT step: at a change point the holder's priority drops below every other; then, if a
     * runnable party outranks it, the holder stops here (in no queue, its virtual time standing)
     * until {@link #pick} finds none that does.
     */
    private void pctStep() {
        final Party me = holder();
        if (me == null) {
            return;
        }
        synchronized (this) {
            if (current != me) {
                return; // released meanwhile
            }
            steps++;
            for (int i = 0; i < changeSteps.length; i++) {
                if (changeSteps[i] == steps) {
                    me.priority = changePriorities[i];
                }
            }
            if (!outranked(me)) {
                return; // the highest runnable party runs on
            }
            me.state = PREEMPTED;
            me.stamp++;
            preempted.add(me);
            handOff(me);
        }
        awaitTurn(me);
        if (me == caller) {
            checkFailure();
        }
    }

    /**
     * The holder {@code me} spends {@code d} of virtual time: it is ready again at {@code now + d},
     * and whoever is due first runs meanwhile; {@code spin} says it was a spin or yield round (for
     * PCT: it waits for someone). Holder only: the random draws above and every scheduler field are
     * the holder's alone (the lock orders them for the other paths).
     */
    private void advance(final Party me, final long d, final boolean spin) {
        synchronized (this) {
            if (current != me) {
                return; // released meanwhile
            }
            me.spins = spin ? me.spins + 1 : 0;
            schedule(me, now + d);
            handOff(me);
        }
        awaitTurn(me);
        if (me == caller) {
            checkFailure();
        }
    }

    @Override
    public void attach(final int cpu) {
        synchronized (this) {
            if (parties == null || cpu < 0 || cpu >= parties.length) {
                throw new IllegalStateException("core " + cpu + " attached to simulation (seed " + seed
                    + ") that serves " + (parties == null ? "no machine" : parties.length + " cores"));
            }
            if (inRun) {
                throw new IllegalStateException("core " + cpu + " started during a run of simulation (seed " + seed + ")");
            }
            final Party p = parties[cpu];
            p.thread = Thread.currentThread();
            p.state = DETACHED;
            byThread.put(p.thread, p);
            self.set(p);
        }
    }

    @Override
    public void detach() {
        final Party me = self.get();
        if (me == null) {
            return;
        }
        synchronized (this) {
            me.state = DETACHED;
            me.stamp++;
            byThread.remove(me.thread);
            self.remove();
            if (current == me) {
                handOff(me);
            }
        }
    }

    @Override
    public boolean simulated() {
        return true;
    }

    @Override
    public String toString() {
        return "simulation(seed " + seed + ", " + costs + ")";
    }

    /** Configures a {@link Simulation}. */
    public static final class Builder {
        private long seed;
        private CostModel costs = CostModel.defaults();
        private double jitter;
        private double interleaving;
        private Duration stall = Duration.ofSeconds(20);
        private int pctDepth;
        private long pctSteps;

        private Builder() {
        }

        /**
         * @param seed the seed of every random choice (tie-breaks, jitter, interleavings)
         * @return this
         */
        public Builder seed(final long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param costs what each step costs
         * @return this
         */
        public Builder costs(final CostModel costs) {
            this.costs = Objects.requireNonNull(costs, "costs");
            return this;
        }

        /**
         * The same as {@link #costs}, by the name {@code Machine.Builder.costModel} has: what each
         * step costs, for instance a model {@link CostModel#read read} from a calibration.
         *
         * @param costModel what each step costs
         * @return this
         */
        public Builder costModel(final CostModel costModel) {
            this.costs = Objects.requireNonNull(costModel, "costModel");
            return this;
        }

        /**
         * Each cost is drawn from {@code [c * (1 - jitter), c * (1 + jitter)]} instead of being
         * exactly {@code c}: schedules differ from seed to seed. 0 (the default) for measurements.
         *
         * @param jitter 0 to 1
         * @return this
         */
        public Builder jitter(final double jitter) {
            if (!(jitter >= 0 && jitter <= 1)) {
                throw new IllegalArgumentException("jitter must be 0 to 1, not " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        /**
         * The probability that an interleaving point (see {@link Timeline#interleave()}) switches
         * cores, after a short random delay: 0 (the default) for measurements, more to explore
         * schedules.
         *
         * @param probability 0 to 1
         * @return this
         */
        public Builder interleaving(final double probability) {
            if (!(probability >= 0 && probability <= 1)) {
                throw new IllegalArgumentException("interleaving must be 0 to 1, not " + probability);
            }
            this.interleaving = probability;
            return this;
        }

        /**
         * Probabilistic concurrency testing (PCT, Burckhardt et al., ASPLOS 2010) at the
         * interleaving points, instead of {@link #interleaving}'s coin: each party gets a random
         * distinct priority, the highest runnable party runs past each interleaving point, and at
         * {@code depth - 1} random steps (of {@code steps} expected) the holder's priority drops
         * below every other. In the paper's model, a bug that needs {@code depth} ordering
         * constraints is then found by one seed with probability at least
         * {@code 1 / (n * steps^(depth - 1))} for n parties; see the class comment for how it meets
         * virtual time here; {@link Simulation#steps()} counts a run's steps.
         *
         * @param depth the bug depth d, at least 1 (1: fixed random priorities, no change point)
         * @param steps k, the expected number of interleaving points of a run, at least {@code depth - 1}
         * @return this
         */
        public Builder pct(final int depth, final long steps) {
            if (depth < 1) {
                throw new IllegalArgumentException("PCT depth must be at least 1, not " + depth);
            }
            if (steps < Math.max(1, depth - 1)) {
                throw new IllegalArgumentException("PCT needs at least " + Math.max(1, depth - 1)
                    + " expected steps for depth " + depth + ", not " + steps);
            }
            this.pctDepth = depth;
            this.pctSteps = steps;
            return this;
        }

        /**
         * How long (real time) a run may go without a scheduling decision before it fails as
         * stalled; {@link Duration#ZERO} turns the watchdog off. Default 20 s.
         *
         * @param timeout the stall timeout, not negative
         * @return this
         */
        public Builder stallTimeout(final Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("stallTimeout must not be negative: " + timeout);
            }
            this.stall = timeout;
            return this;
        }

        /**
         * {@return the simulation, to pass to {@code Machine.Builder.simulation}}
         *
         * @throws IllegalStateException if both {@link #pct} and {@link #interleaving} are set
         */
        public Simulation build() {
            if (pctDepth > 0 && interleaving > 0) {
                throw new IllegalStateException("pct and interleaving both decide at the interleaving points: set one");
            }
            return new Simulation(this);
        }
    }
}
