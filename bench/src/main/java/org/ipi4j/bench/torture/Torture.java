package org.ipi4j.bench.torture;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.ipi4j.Core;
import org.ipi4j.CoreTimer;
import org.ipi4j.Machine;
import org.ipi4j.Paravirt;
import org.ipi4j.Pinning;
import org.ipi4j.ShutdownReport;
import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.Faults;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuException;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.Interrupt;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.interrupts.UndeliveredInterrupt;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Program;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.MmuGather;
import org.ipi4j.mm.Pte;
import org.ipi4j.mm.ShootdownStats;
import org.ipi4j.sim.CostModel;
import org.ipi4j.shard.Sharded;
import org.ipi4j.sim.Simulation;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallCancelledException;
import org.ipi4j.smp.CallCompletion;
import org.ipi4j.smp.CallFunction;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.CoreAction;
import org.ipi4j.smp.Scheduler;
import org.ipi4j.smp.ServiceGroup;
import org.ipi4j.smp.SmpCall;
import org.ipi4j.smp.SmpCallException;
import org.ipi4j.time.Timeline;

/**
 * A seeded torture run of the whole library at once, in the spirit of Linux's scftorture and
 * rcutorture: a machine with a configuration drawn from the seed (2 to 8 cores, idle policy,
 * overflow policy FAIL or BLOCK with a small mailbox, per-vector or posted delivery, each
 * {@link Paravirt} feature on or off, fault injection on or off, broadcast invalidation crossed or
 * not, the stale-translation detector on), and several initiators (outside threads and tasks on
 * the cores; in a simulation the run body and tasks on the cores) issuing a random mix of
 * everything the library offers for a given time: unicast, multicast and shorthand sends under
 * either overflow policy, handlers that send, throw or block for a while, waited and asynchronous
 * cross-core calls in every shape with conditions and functions that throw or re-enter, scheduler
 * jobs, programs, map/unmap/protect and gathers on shared address spaces while other cores read
 * and write through them, preemption, every fault of {@link Faults}, and listeners and hooks that
 * throw, block or re-enter; then a shutdown with a deadline. Then every oracle is checked (see
 * {@link Oracle}); each check is counted, and each failure is a message naming the seed.
 *
 * <p>What it guarantees: the same seed gives the same {@link Config}; in a simulation
 * ({@code simulate}), the same seed also gives the same schedule ({@link Result#trace()}) and the
 * same counts ({@link Result#counts()}), since everything random comes from seeded generators used
 * by one thread at a time and nothing reads the real clock. A real-time run is not reproducible
 * beyond its configuration. A run never hangs the caller beyond its duration plus the shutdown
 * timeout plus bounded clean-up waits: every wait of the harness has a deadline, and one that
 * expires is reported as a failure.
 *
 * <p>Thread-safety: {@link #run} may be called from any thread, and several runs may go on at
 * once (each builds its own machine); one run's state is confined to it.
 */
public final class Torture {
    /** Kinds of operation the mix issues, counted in {@link Result#operations()}. */
    public enum Kind {
        /** {@code send(cpu, vector, payload)}. */
        SEND_UNICAST,
        /** {@code send(CpuSet, vector, payload)}. */
        SEND_MULTICAST,
        /** {@code send(Shorthand, vector, payload)}. */
        SEND_SHORTHAND,
        /** {@code trySend}. */
        TRY_SEND,
        /** {@code SmpCall.call}. */
        CALL,
        /** {@code SmpCall.run(cpu, action)}. */
        RUN,
        /** {@code SmpCall.run(cpus, condition, action, shape)}. */
        RUN_MANY,
        /** {@code SmpCall.onEachCore}. */
        ON_EACH,
        /** {@code SmpCall.onOtherCores}. */
        ON_OTHERS,
        /** {@code SmpCall.callAsync}. */
        CALL_ASYNC,
        /** {@code SmpCall.runAsync(cpu, action)}. */
        RUN_ASYNC,
        /** {@code SmpCall.runAsync(cpus, condition, action, shape)}. */
        RUN_MANY_ASYNC,
        /** {@code SmpCall.onEachCoreAsync}. */
        ON_EACH_ASYNC,
        /** {@code SmpCall.onOtherCoresAsync}. */
        ON_OTHERS_ASYNC,
        /** {@code Core.submit} of a task that runs a mix of its own, or reads and writes through the spaces. */
        TASK,
        /** {@code Scheduler.submit}. */
        JOB,
        /** {@code Core.execute} of a program that sends an IPI and loads and stores through a space. */
        PROGRAM,
        /** {@code AddressSpace.map}. */
        MAP,
        /** {@code AddressSpace.unmap}. */
        UNMAP,
        /** {@code AddressSpace.protect}. */
        PROTECT,
        /** An {@code MmuGather} batch of changes. */
        GATHER,
        /** Reads and writes through a space on a core (with the stale detector on). */
        ACCESS,
        /** {@code Core.preempt} or {@code preemptUntilResumed}. */
        PREEMPT,
        /** {@code Core.resume}. */
        RESUME,
        /** A map, unmap or protect, or a waited call, where it must be refused (interrupts off, in a handler, closed). */
        PROBE,
        /** A listener or hook ran (oops listener, shutdown hook, PV flush hook, exception handler). */
        HOOK,
        /** A scheduler preemption point. */
        PREEMPTION_POINT,
        /** A waited call through {@code SmpCall.withDeadline} (a short deadline: it races the function's start). */
        DEADLINE_CALL,
        /** An async call through {@code SmpCall.withDeadline}: its future completes by the deadline, joined or not. */
        DEADLINE_ASYNC,
        /** An async call, then {@code CallCompletion.cancel()}: a cancelled target never runs it. */
        CANCEL,
        /** An async call through {@code SmpCall.inGroup} (and the bounded queues, when installed): refused whole or run. */
        GROUP_ASYNC,
        /** {@code callAsync(b, f).thenApplyOn(a, g)}: g runs on core a at most once, and the future completes. */
        CONTINUATION,
        /** {@code Sharded.invokeOn}, waited. */
        SHARDED_INVOKE,
        /** {@code Sharded.invokeOnAsync}. */
        SHARDED_INVOKE_ASYNC,
        /** {@code Sharded.mapReduce}, waited. */
        SHARDED_MAP_REDUCE,
        /** {@code Sharded.mapReduceAsync}. */
        SHARDED_MAP_REDUCE_ASYNC,
        /** {@code Core.schedule}: a one-shot timer. */
        TIMER,
        /** {@code Core.schedulePeriodic}, cancelled later (or by shutdown). */
        TIMER_PERIODIC,
        /** {@code CoreTimer.cancel}. */
        TIMER_CANCEL
    }

    /** The faults the run injects, counted in {@link Result#faults()}. */
    public enum Fault {
        /** {@link Faults#freeze}. */
        FREEZE,
        /** {@link Faults#thaw} and the end of a delivery delay. */
        THAW,
        /** {@link Faults#delayDeliveries}. */
        DELAY_DELIVERIES,
        /** {@link Faults#dropWakeups}. */
        DROP_WAKEUPS,
        /** {@link Faults#failHandlers}. */
        FAIL_HANDLERS,
        /** A handler, call function, job or task that does not return until the machine has shut down. */
        STUCK
    }

    /** The named checks, counted in {@link Result#checks()}; a failure message starts with the name. */
    public enum Oracle {
        /** No translation through a revoked entry after its shootdown returned ({@link ShootdownStats#violations()} is 0). */
        NO_STALE_TRANSLATION("no-stale-translation"),
        /** Every payload whose send was accepted was handled exactly once or handed back once in the shutdown report. */
        PAYLOAD_EXACTLY_ONCE("payload-exactly-once"),
        /** An accepted call (per target), task or job ran exactly once (at most once where its fate is unknowable). */
        ACCEPTED_RUNS_ONCE("accepted-runs-once"),
        /** A send, call, task or job refused with an exception never ran, then or later. */
        REFUSED_NEVER_RUNS("refused-never-runs"),
        /** Every future handed out is complete when shutdown returns (bar work that itself never returned). */
        FUTURES_COMPLETE("futures-complete-at-shutdown"),
        /** Shutdown returned within its timeout plus 50 ms (our own hooks' and the GC's time excepted). */
        SHUTDOWN_DEADLINE("shutdown-within-timeout"),
        /** A refused map, unmap or protect left the PTE as it was. */
        REFUSED_CHANGES_NOTHING("refused-changes-nothing"),
        /** A waited call that returned gave the function's result and ran on each target once. */
        WAITED_CALL_RESULT("waited-call-result"),
        /** Once the machine is closed, sends, submissions, calls and mapping changes are refused. */
        CLOSED_REFUSES("closed-machine-refuses"),
        /** The library threw only what its contract allows at each call. */
        CONTRACT("exception-contract"),
        /** After the stuck work is released every core halts, every future completes, every initiator ends. */
        QUIESCENCE("quiescence"),
        /** A sharded instance is touched only on its own core, and each call's function runs there once. */
        SHARD_ON_ITS_CORE("shard-touched-on-its-core"),
        /** A timer runs on its core, not before its delay, and never after a cancel that returned true. */
        TIMER_ON_TIME("timer-on-its-core-not-early");

        private final String label;

        Oracle(final String label) {
            this.label = label;
        }

        /** {@return the check's name, as in failure messages} */
        public String label() {
            return label;
        }
    }

    /** Which work is made to never return (until the machine has shut down), if any. */
    public enum Stuck {
        /** Nothing. */
        NONE,
        /** The next handler entry on one core. */
        HANDLER,
        /** The next handler entry on a core whose task is inside a send (possibly in a BLOCK back-off). */
        HANDLER_IN_SEND,
        /** An asynchronous call's function. */
        CALL,
        /** A scheduler job. */
        JOB,
        /** A core task. */
        TASK
    }

    /**
     * One run's configuration, drawn from the seed by {@link #random}. Immutable.
     *
     * @param seed               the seed everything else is drawn from
     * @param simulate           true to run in a virtual-time {@link Simulation}
     * @param cores              2 to 8
     * @param idle               the idle policy's name: park, adaptive, poll, spin
     * @param overflow           FAIL or BLOCK
     * @param mailboxCapacity    2 to 16 payloads per vector
     * @param blockTimeout       a BLOCK send's wait for room
     * @param deliveryMode       per-vector or posted
     * @param paravirt           the paravirtual features on
     * @param faults             true to inject faults
     * @param faultRate          per-mille of the outside initiators' operations that inject a fault (when on)
     * @param broadcastThreshold broadcast invalidation's threshold: 0 off, at most {@code cores} crossable, more not
     * @param shape              the default broadcast shape
     * @param watchdog           the cross-call watchdog
     * @param initiators         outside initiator threads (0 in a simulation: the run body is the one outside caller)
     * @param threadFactory      true to make the cores' threads with a thread factory
     * @param stuck              the work made to never return, if any (never in a simulation)
     * @param shutdownTimeout    the deadline given to {@code Machine.shutdown}
     * @param pinner             true to pin best-effort with a {@link org.ipi4j.Pinner} that fails for some cores
     */
    public record Config(long seed, boolean simulate, int cores, String idle, OverflowPolicy overflow,
                         int mailboxCapacity, Duration blockTimeout, DeliveryMode deliveryMode, Set<Paravirt> paravirt,
                         boolean faults, int faultRate, int broadcastThreshold, Broadcast shape, Duration watchdog,
                         int initiators, boolean threadFactory, Stuck stuck, Duration shutdownTimeout,
                         boolean pinner) {
        /** Validates and freezes. */
        public Config {
            Objects.requireNonNull(idle, "idle");
            Objects.requireNonNull(overflow, "overflow");
            Objects.requireNonNull(deliveryMode, "deliveryMode");
            paravirt = Collections.unmodifiableSet(paravirt.isEmpty() ? EnumSet.noneOf(Paravirt.class) : EnumSet.copyOf(paravirt));
            Objects.requireNonNull(shape, "shape");
            Objects.requireNonNull(stuck, "stuck");
            if (cores < 2 || cores > 8) {
                throw new IllegalArgumentException("cores must be 2 to 8, not " + cores);
            }
            if (simulate && (stuck != Stuck.NONE || initiators != 0)) {
                throw new IllegalArgumentException("a simulation has no outside threads and no stuck work");
            }
        }

        /**
         * The configuration seed {@code seed} gives.
         *
         * @param seed the seed
         * @param simulate true for a simulation
         * @return the configuration
         */
        public static Config random(final long seed, final boolean simulate) {
            final SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + 0x7F4A7C15L);
            final int cores = 2 + r.nextInt(7);
            // Spinning idle cores on a 2-CPU host starve everything else: only at 2 cores.
            final String[] idles = cores <= 2 ? new String[] {"park", "adaptive", "poll", "spin"}
                : new String[] {"park", "adaptive", "poll"};
            final String idle = idles[r.nextInt(idles.length)];
            final OverflowPolicy overflow = r.nextBoolean() ? OverflowPolicy.FAIL : OverflowPolicy.BLOCK;
            final int capacity = 2 << r.nextInt(4);
            final Duration block = simulate ? Duration.ofNanos(20_000 + r.nextInt(200_000))
                : Duration.ofMillis(5 + r.nextInt(60));
            final DeliveryMode mode = r.nextBoolean() ? DeliveryMode.PER_VECTOR : DeliveryMode.POSTED;
            final EnumSet<Paravirt> pv = EnumSet.noneOf(Paravirt.class);
            for (final Paravirt p : Paravirt.values()) {
                if (r.nextBoolean()) {
                    pv.add(p);
                }
            }
            final boolean faults = r.nextInt(3) != 0;
            final int faultRate = 5 + r.nextInt(40);
            final int threshold = switch (r.nextInt(3)) {
                case 0 -> 0;
                case 1 -> 2 + r.nextInt(cores - 1); // crossable: readers reach it
                default -> cores + 1;               // never crossed
            };
            final Broadcast[] shapes = {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2), Broadcast.tree(3),
                Broadcast.topology()};
            final Broadcast shape = shapes[r.nextInt(shapes.length)];
            final Duration watchdog = simulate ? Duration.ofNanos(200_000 + r.nextInt(800_000))
                : Duration.ofMillis(50 + r.nextInt(150));
            final int initiators = simulate ? 0 : 2 + r.nextInt(2);
            final boolean factory = r.nextBoolean();
            final Stuck stuck;
            if (simulate || r.nextBoolean()) {
                stuck = Stuck.NONE;
            } else {
                final Stuck s = Stuck.values()[1 + r.nextInt(Stuck.values().length - 1)];
                // Stuck inside a send needs a send that waits for room: BLOCK.
                stuck = s == Stuck.HANDLER_IN_SEND && overflow != OverflowPolicy.BLOCK ? Stuck.HANDLER : s;
            }
            final Duration timeout = Duration.ofMillis(300 + r.nextInt(900));
            final boolean pinner = !simulate && r.nextInt(3) == 0;
            return new Config(seed, simulate, cores, idle, overflow, capacity, block, mode, pv, faults, faultRate,
                threshold, shape, watchdog, initiators, factory, stuck, timeout, pinner);
        }

        /** {@return one line saying what this configuration is} */
        public String describe() {
            return String.format(Locale.ROOT, "seed %d%s: %d cores, %s idle, %s mailbox %d (block %s), %s, PV %s, "
                    + "faults %s, broadcast invalidation %s, %s, watchdog %s, %d outside initiators%s, stuck %s, "
                    + "shutdown(%s)%s", seed, simulate ? " (simulated)" : "", cores, idle, overflow, mailboxCapacity,
                blockTimeout, deliveryMode, paravirt, faults ? faultRate + "/1000" : "off",
                broadcastThreshold == 0 ? "off" : broadcastThreshold <= cores ? "at " + broadcastThreshold + " (crossable)"
                    : "at " + broadcastThreshold + " (never crossed)",
                shape, watchdog, initiators, threadFactory ? ", thread factory" : "", stuck, shutdownTimeout,
                pinner ? ", failing pinner" : "");
        }
    }

    /**
     * Live counters a caller may read while runs go on (the lab prints them every second). Every
     * counter only grows. Thread-safe.
     */
    public static final class Progress {
        final LongAdder ops = new LongAdder();
        final LongAdder faults = new LongAdder();
        final LongAdder checks = new LongAdder();
        final LongAdder failures = new LongAdder();

        /** {@return operations issued so far} */
        public long operations() {
            return ops.sum();
        }

        /** {@return faults injected so far} */
        public long faults() {
            return faults.sum();
        }

        /** {@return oracle checks made so far} */
        public long checks() {
            return checks.sum();
        }

        /** {@return oracle failures so far} */
        public long failures() {
            return failures.sum();
        }
    }

    /**
     * What one run did and found. Immutable, and so thread-safe; the maps iterate in the order of
     * their enums (the outcomes by name).
     */
    public static final class Result {
        private final Config config;
        private final Duration wall;
        private final long virtualNanos;
        private final long trace;
        private final Map<Kind, Long> operations;
        private final Map<Fault, Long> faults;
        private final Map<Oracle, Long> checks;
        private final long failureCount;
        private final List<String> failures;
        private final Map<String, Long> outcomes;

        Result(final Config config, final Duration wall, final long virtualNanos, final long trace,
               final Map<Kind, Long> operations, final Map<Fault, Long> faults, final Map<Oracle, Long> checks,
               final long failureCount, final List<String> failures, final Map<String, Long> outcomes) {
            this.config = config;
            this.wall = wall;
            this.virtualNanos = virtualNanos;
            this.trace = trace;
            this.operations = Collections.unmodifiableMap(new EnumMap<>(operations));
            this.faults = Collections.unmodifiableMap(new EnumMap<>(faults));
            this.checks = Collections.unmodifiableMap(new EnumMap<>(checks));
            this.failureCount = failureCount;
            this.failures = List.copyOf(failures);
            this.outcomes = Collections.unmodifiableMap(new LinkedHashMap<>(outcomes));
        }

        /** {@return the seed} */
        public long seed() {
            return config.seed();
        }

        /** {@return the configuration} */
        public Config config() {
            return config;
        }

        /** {@return how long the run took on the wall clock, shutdown and checks included} */
        public Duration duration() {
            return wall;
        }

        /** {@return virtual nanoseconds the simulated mix ran (0 for a real-time run)} */
        public long virtualNanos() {
            return virtualNanos;
        }

        /** {@return the simulation's trace hash (0 for a real-time run)} */
        public long trace() {
            return trace;
        }

        /** {@return operations issued, by kind} */
        public Map<Kind, Long> operations() {
            return operations;
        }

        /** {@return faults injected, by kind (arms and, where the library counts them, strikes)} */
        public Map<Fault, Long> faults() {
            return faults;
        }

        /** {@return oracle checks made, by oracle} */
        public Map<Oracle, Long> checks() {
            return checks;
        }

        /** {@return how many checks failed} */
        public long failureCount() {
            return failureCount;
        }

        /** {@return the first failure messages (at most 50), each naming the seed and the oracle} */
        public List<String> failures() {
            return failures;
        }

        /** {@return how the operations ended (accepted, refused, timed out, ...), by name} */
        public Map<String, Long> outcomes() {
            return outcomes;
        }

        /** {@return true if no check failed} */
        public boolean ok() {
            return failureCount == 0;
        }

        /** {@return operations issued in all} */
        public long operationsTotal() {
            return operations.values().stream().mapToLong(Long::longValue).sum();
        }

        /** {@return faults injected in all} */
        public long faultsTotal() {
            return faults.values().stream().mapToLong(Long::longValue).sum();
        }

        /** {@return checks made in all} */
        public long checksTotal() {
            return checks.values().stream().mapToLong(Long::longValue).sum();
        }

        /**
         * {@return every count of the run in one string (operations, faults, checks, outcomes, failures)}:
         * equal for two simulated runs of one seed.
         */
        public String counts() {
            return "operations " + operations + "\nfaults " + faults + "\nchecks " + checks + "\noutcomes " + outcomes
                + "\nfailures " + failureCount + " " + failures;
        }

        @Override
        public String toString() {
            return config.describe() + "\n  " + operationsTotal() + " operations, " + faultsTotal() + " faults, "
                + checksTotal() + " checks, " + failureCount + " failures in " + wall.toMillis() + " ms"
                + (config.simulate() ? " (" + virtualNanos / 1000 + " us virtual, trace " + Long.toHexString(trace) + ")" : "")
                + (failures.isEmpty() ? "" : "\n  " + String.join("\n  ", failures));
        }
    }

    /**
     * Runs seed {@code seed} for {@code duration}: on the wall clock, or, simulated, in virtual time.
     *
     * @param seed the seed
     * @param duration how long the mix runs before the shutdown
     * @param simulate true to run in a simulation
     * @param progress live counters to add to, or null
     * @return what the run did and found
     */
    public static Result run(final long seed, final Duration duration, final boolean simulate, final Progress progress) {
        return run(Config.random(seed, simulate), duration, progress);
    }

    /**
     * Runs {@code config} for {@code duration}.
     *
     * @param config the configuration
     * @param duration how long the mix runs before the shutdown (virtual time in a simulation)
     * @param progress live counters to add to, or null
     * @return what the run did and found
     */
    public static Result run(final Config config, final Duration duration, final Progress progress) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, not " + duration);
        }
        return new Torture(config, duration, progress == null ? new Progress() : progress).execute();
    }

    // =====================================================================================
    // One run's state
    // =====================================================================================

    private static final Vector V1 = Vector.of(0x40);
    private static final Vector V2 = Vector.of(0x41);
    private static final int PAGE = 16;
    private static final int FRAMES = 32;
    private static final int SPACE_PAGES = 8;
    private static final int PROBE_PAGES = 4;
    private static final int MAX_FAILURES = 50;
    private static final int MAX_DEPTH = 2;
    private static final Pattern STUCK_CORE = Pattern.compile("^core (\\d+) ");

    /** What a handler does with a payload, a function or job when it runs. */
    private static final int NORMAL = 0;
    private static final int THROW = 1;
    private static final int BLOCK = 2;
    private static final int NESTED = 3;
    private static final int STUCK = 4;

    /** Where an operation is issued from: what it may do there, and what it must be refused. */
    private enum Site { OUTSIDE, TASK, JOB, HANDLER, FUNCTION, HOOK }

    /** A payload: the first id of its block (the target's slot is {@code base + cpu}) and what the handler does. */
    private record Tag(long base, int behaviour, int depth) {
    }

    /** A call: its block, the targets its condition chose, what the function does. */
    private static final class CallRec {
        final long base;
        final Kind kind;
        final int behaviour;
        final int depth;
        /** Targets chosen, one bit per core; written by the caller only, before the call is sent. */
        volatile long mask;

        CallRec(final long base, final Kind kind, final int behaviour, final int depth) {
            this.base = base;
            this.kind = kind;
            this.behaviour = behaviour;
            this.depth = depth;
        }
    }

    /** A future handed out, and whether it may be pending when shutdown returns. */
    private record Tracked(CompletableFuture<?> future, Kind kind, long id, boolean stuck) {
    }

    private final Config cfg;
    private final Duration duration;
    private final Progress progress;
    private final int cores;
    private final Ledger ledger = new Ledger();
    private final EnumMap<Kind, LongAdder> ops = new EnumMap<>(Kind.class);
    private final EnumMap<Fault, LongAdder> faultCounts = new EnumMap<>(Fault.class);
    private final EnumMap<Oracle, LongAdder> checks = new EnumMap<>(Oracle.class);
    private final ConcurrentHashMap<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong failureCount = new AtomicLong();
    private final ConcurrentLinkedQueue<Tracked> futures = new ConcurrentLinkedQueue<>();
    /** Tasks and jobs started and not yet ended: id to core. */
    private final ConcurrentHashMap<Long, Integer> running = new ConcurrentHashMap<>();
    private final AtomicInteger inflightTasks = new AtomicInteger();
    private final AtomicInteger inflightAsync = new AtomicInteger();
    private final AtomicBoolean[] probeLocks = new AtomicBoolean[PROBE_PAGES];
    /** Per core: 1 while a task on it is inside a send (the stuck-in-send trigger reads it). */
    private final AtomicIntegerArray taskSending;
    /** Cores preempted until resumed: someone must resume them. */
    private final AtomicIntegerArray heldPreempted;
    private final SplittableRandom[] coreRandom;
    private final ThreadLocal<SplittableRandom> threadRandom;
    private final AtomicLong threadSeeds = new AtomicLong();
    /** Released once shutdown has returned and been judged: what was made stuck may go on. */
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicBoolean stuckArmed = new AtomicBoolean();
    private volatile int stuckCpu = -1;
    /** While the stuck work and its followers are issued: their core (another initiator aiming there too is harmless). */
    private volatile int stuckTarget = -1;
    /** The core the stuck call or job went to, or -1. */
    private volatile int stuckCore = -1;
    private volatile boolean stuckInSend;
    private volatile boolean stop;
    /** The simulated mix is draining: no new preemptions until resumed, so every future can complete. */
    private volatile boolean draining;
    private volatile boolean simulationOver;
    /** Nanoseconds our own listeners and hooks spent on the shutting-down thread (excused from its deadline). */
    private final AtomicLong hookNanosOnShutdown = new AtomicLong();
    private volatile Thread shutdownThread;

    private Machine machine;
    private InterruptController ic;
    private Timeline tl;
    private Simulation sim;
    private SmpCall smp;
    /** Views of {@link #smp} with deadlines from 20 us to 20 ms: the short ones race the function's start. */
    private SmpCall[] timed;
    /** A view of {@link #smp} in {@link #group}, with a 1 ms deadline for its BLOCK waits. */
    private SmpCall grouped;
    private ServiceGroup group;
    private Scheduler scheduler;
    private Mmu mmu;
    /** The shared spaces the mix changes and reads; a slot is now and then replaced by a fresh space. */
    private java.util.concurrent.atomic.AtomicReferenceArray<AddressSpace> spaces;
    /** Every space the run made, for the final stale-translation check. */
    private final ConcurrentLinkedQueue<AddressSpace> allSpaces = new ConcurrentLinkedQueue<>();
    private final AtomicInteger spacesMade = new AtomicInteger();
    private AddressSpace probe;
    /** One cell per core, made on its core; null until the mix starts (it needs a running machine). */
    private volatile Sharded<ShardCell> shards;
    /** Periodic timers not yet cancelled: the simulated drain cancels them (they never complete by themselves). */
    private final ConcurrentLinkedQueue<CoreTimer> periodicTimers = new ConcurrentLinkedQueue<>();
    private Faults faults;
    private long startNanos;
    private long deadlineNanos;

    private Torture(final Config cfg, final Duration duration, final Progress progress) {
        this.cfg = cfg;
        this.duration = duration;
        this.progress = progress;
        this.cores = cfg.cores();
        for (final Kind k : Kind.values()) {
            ops.put(k, new LongAdder());
        }
        for (final Fault f : Fault.values()) {
            faultCounts.put(f, new LongAdder());
        }
        for (final Oracle o : Oracle.values()) {
            checks.put(o, new LongAdder());
        }
        for (int i = 0; i < PROBE_PAGES; i++) {
            probeLocks[i] = new AtomicBoolean();
        }
        this.taskSending = new AtomicIntegerArray(cores);
        this.heldPreempted = new AtomicIntegerArray(cores);
        final SplittableRandom root = new SplittableRandom(cfg.seed());
        this.coreRandom = new SplittableRandom[cores];
        for (int i = 0; i < cores; i++) {
            coreRandom[i] = root.split();
        }
        final long threadBase = root.nextLong();
        // Outside threads draw their own generators in the order they first ask: in a simulation
        // the run body (this thread) is the only one, so its draws are the seed's.
        this.threadRandom = ThreadLocal.withInitial(() -> new SplittableRandom(threadBase + threadSeeds.incrementAndGet()));
    }

    // =====================================================================================
    // Bookkeeping helpers
    // =====================================================================================

    private void op(final Kind k) {
        ops.get(k).increment();
        progress.ops.increment();
    }

    private void fault(final Fault f) {
        faultCounts.get(f).increment();
        progress.faults.increment();
    }

    private void check(final Oracle o) {
        checks.get(o).increment();
        progress.checks.increment();
    }

    private void fail(final Oracle o, final String what) {
        failureCount.incrementAndGet();
        progress.failures.increment();
        if (failures.size() < MAX_FAILURES) {
            failures.add("seed " + cfg.seed() + (cfg.simulate() ? " (simulated)" : "") + " [" + o.label() + "] " + what);
        }
    }

    private void outcome(final String what) {
        outcomes.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    /** An exception the library's contract does not allow here. */
    private void unexpected(final Kind k, final Site site, final Throwable e) {
        check(Oracle.CONTRACT);
        fail(Oracle.CONTRACT, k + " from " + site + " threw " + e + at(e));
    }

    private static String at(final Throwable e) {
        final StackTraceElement[] st = e.getStackTrace();
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(4, st.length); i++) {
            sb.append(i == 0 ? " at " : " < ").append(st[i]);
        }
        return sb.toString();
    }

    private SplittableRandom rnd() {
        final Core c = machine.currentCore();
        return c != null ? coreRandom[c.id()] : threadRandom.get();
    }

    private int selfId() {
        final Core c = machine.currentCore();
        return c == null ? -1 : c.id();
    }

    /** Waits "for a while": real parking on the host, virtual spinning in a simulation (never a real block there). */
    private void pause(final long nanos) {
        if (simulationOver) {
            return; // the simulation's clock stands still once it has ended: a virtual wait would never end
        }
        if (tl.simulated()) {
            final long until = tl.nanoTime() + nanos;
            // The end may come while we spin: then the clock stands still and this loop would not end.
            while (!simulationOver && tl.nanoTime() - until < 0) {
                tl.spinWait();
            }
        } else {
            LockSupport.parkNanos(nanos);
        }
    }

    /** Stuck work waits here until the run releases it (after shutdown), at most a minute. */
    private void awaitRelease() {
        try {
            if (!release.await(60, TimeUnit.SECONDS)) {
                fail(Oracle.QUIESCENCE, "stuck work was never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Throwable unwrap(final Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static long bit(final int cpu) {
        return 1L << cpu;
    }

    private long allMask() {
        return (1L << cores) - 1;
    }

    private static CpuSet toSet(final long mask) {
        CpuSet s = CpuSet.empty();
        for (long m = mask; m != 0; m &= m - 1) {
            s = s.with(Long.numberOfTrailingZeros(m));
        }
        return s;
    }

    private void track(final CompletableFuture<?> f, final Kind kind, final long id, final boolean stuck) {
        futures.add(new Tracked(f, kind, id, stuck));
    }

    // =====================================================================================
    // The run
    // =====================================================================================

    private Result execute() {
        final long wallStart = System.nanoTime();
        long virtual = 0;
        long trace = 0;
        build();
        try {
            if (cfg.simulate()) {
                virtual = runSimulated();
                trace = sim.trace();
            } else {
                runReal();
            }
        } catch (Throwable t) {
            final StringBuilder pending = new StringBuilder();
            for (final Tracked p : futures) {
                if (!p.future().isDone() && pending.length() < 600) {
                    pending.append(' ').append(p.kind()).append('#').append(p.id());
                }
            }
            final StringBuilder where = new StringBuilder();
            for (final Core c : machine.cores()) {
                where.append("\n    ").append(c.describe());
            }
            fail(Oracle.QUIESCENCE, "the run itself failed: " + t + at(t) + "; pending:" + pending + where + "; "
                + cfg.describe());
            release.countDown();
            stop = true;
            try {
                machine.shutdown(Duration.ofSeconds(5));
            } catch (RuntimeException ignored) {
                // already reported
            }
        }
        final Map<Kind, Long> o = new EnumMap<>(Kind.class);
        ops.forEach((k, v) -> {
            if (v.sum() > 0) {
                o.put(k, v.sum());
            }
        });
        final Map<Fault, Long> f = new EnumMap<>(Fault.class);
        faultCounts.forEach((k, v) -> {
            if (v.sum() > 0) {
                f.put(k, v.sum());
            }
        });
        final Map<Oracle, Long> c = new EnumMap<>(Oracle.class);
        checks.forEach((k, v) -> c.put(k, v.sum()));
        final Map<String, Long> out = new java.util.TreeMap<>();
        outcomes.forEach((k, v) -> out.put(k, v.sum()));
        return new Result(cfg, Duration.ofNanos(System.nanoTime() - wallStart), virtual, trace, o, f, c,
            failureCount.get(), new ArrayList<>(failures), out);
    }

    private void build() {
        final Machine.Builder b = Machine.builder().name("torture-" + cfg.seed()).cores(cores).pinning(Pinning.NONE)
            .idlePolicy(switch (cfg.idle()) {
                case "spin" -> IdlePolicy.spin();
                case "poll" -> IdlePolicy.poll(Duration.ofNanos(50_000));
                case "adaptive" -> IdlePolicy.adaptive();
                default -> IdlePolicy.park();
            })
            .overflowPolicy(cfg.overflow()).mailboxCapacity(cfg.mailboxCapacity()).blockTimeout(cfg.blockTimeout())
            .deliveryMode(cfg.deliveryMode()).paravirt(cfg.paravirt().toArray(new Paravirt[0]))
            .memoryWords(FRAMES * PAGE).oopsCapacity(64).onOops(this::onOops);
        if (cfg.faults() || cfg.stuck() != Stuck.NONE) {
            faults = new Faults(cores);
            b.faults(new Injector(faults));
        }
        if (cfg.pinner()) {
            // A pinner that fails for some cores (they must run unpinned) and pins the others in name.
            final AtomicInteger asked = new AtomicInteger();
            b.pinning(Pinning.BEST_EFFORT).pinner(() -> {
                op(Kind.HOOK);
                final int n = asked.getAndIncrement();
                if (n % 3 == 0) {
                    throw new TortureException("pinner told to throw");
                }
                if (n % 3 == 1) {
                    return null;
                }
                return new org.ipi4j.Pinner.Pin() {
                    @Override
                    public int hostCpu() {
                        return n % Math.max(1, Machine.hostCpus());
                    }

                    @Override
                    public void release() {
                        op(Kind.HOOK);
                    }
                };
            });
        }
        if (cfg.threadFactory()) {
            b.threadFactory(r -> {
                final Thread t = new Thread(r);
                t.setDaemon(true);
                return t;
            });
        }
        if (cfg.simulate()) {
            sim = Simulation.builder().seed(cfg.seed()).jitter(0.3).interleaving(0.2)
                .costs(CostModel.builder().topology(Topology.of(2, 2)).build()).build();
            b.simulation(sim);
        } else {
            b.topology(Topology.of(2, 2));
        }
        machine = b.build();
        ic = machine.interrupts();
        tl = machine.timeline();
        // Half the seeds bound each core's async calls (the service-group kind meets the bound too).
        final SplittableRandom sr = new SplittableRandom(cfg.seed() ^ 0x51C0_BA11L);
        final OverflowPolicy full = sr.nextBoolean() ? OverflowPolicy.FAIL : OverflowPolicy.BLOCK;
        smp = sr.nextBoolean() ? SmpCall.install(machine, cfg.watchdog(), cfg.shape())
            : SmpCall.builder(machine).watchdog(cfg.watchdog()).broadcast(cfg.shape()).queueCapacity(2 + sr.nextInt(7), full)
                .install();
        timed = new SmpCall[] {smp.withDeadline(Duration.ofNanos(20_000)), smp.withDeadline(Duration.ofNanos(200_000)),
            smp.withDeadline(Duration.ofMillis(2)), smp.withDeadline(Duration.ofMillis(20))};
        group = ServiceGroup.of("torture", 1 + sr.nextInt(2), full);
        grouped = smp.inGroup(group).withDeadline(Duration.ofMillis(1));
        scheduler = Scheduler.on(machine);
        // Small TLBs, ceilings and batches: evictions, full flushes and batch flushes all happen.
        final SplittableRandom mr = new SplittableRandom(cfg.seed() ^ 0x3D5A_F1B7L);
        final Mmu.Builder mb = Mmu.builder(smp).pageWords(PAGE).tlbEntries(16).detectStale(true)
            .fullFlushCeiling(1 + mr.nextInt(6)).batchPages(2 + mr.nextInt(12))
            .batchWindow(Duration.ofNanos(mr.nextInt(100_000)));
        if (cfg.broadcastThreshold() > 0) {
            mb.broadcastInvalidation(cfg.broadcastThreshold());
        }
        mmu = mb.build();
        ic.register(V1, this::onIrq);
        ic.register(V2, this::onIrq);
        ic.onException(Vector.PAGE_FAULT, this::onPageFault);
        machine.onPvFlush(this::onPvFlush);
        machine.onShutdown(this::throwingShutdownHook);
        machine.onShutdown(this::blockingShutdownHook);
        machine.onShutdown(this::reenteringShutdownHook);
        machine.start();
        final SplittableRandom r = new SplittableRandom(cfg.seed() ^ 0x5EED);
        spaces = new java.util.concurrent.atomic.AtomicReferenceArray<>(2);
        spaces.set(0, freshSpace(r));
        spaces.set(1, freshSpace(r));
        probe = mmu.newAddressSpace(PROBE_PAGES);
        allSpaces.add(probe);
        for (int p = 0; p < PROBE_PAGES; p++) {
            probe.map(p, r.nextInt(FRAMES), Pte.READ | Pte.WRITE);
        }
    }

    private void runReal() throws InterruptedException {
        startNanos = System.nanoTime();
        deadlineNanos = startNanos + duration.toNanos();
        startShards();
        final List<Thread> initiators = new ArrayList<>();
        for (int i = 0; i < cfg.initiators(); i++) {
            final int me = i;
            final Thread t = new Thread(() -> initiatorLoop(me), "torture-" + cfg.seed() + "-initiator-" + i);
            t.setDaemon(true);
            initiators.add(t);
        }
        initiators.forEach(Thread::start);
        // The mix runs for the duration; the initiators go on into the shutdown, racing it.
        final CountDownLatch never = new CountDownLatch(1);
        never.await(duration.toNanos(), TimeUnit.NANOSECONDS);
        queueBehindTheStuckWork();
        final ShutdownReport report = timedShutdown();
        stop = true;
        judgeFuturesAtShutdown(report);
        release.countDown();
        final long joinDeadline = System.nanoTime() + 2 * cfg.watchdog().toNanos() + TimeUnit.SECONDS.toNanos(10);
        for (final Thread t : initiators) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
            if (t.isAlive()) {
                fail(Oracle.QUIESCENCE, "initiator " + t.getName() + " did not end: " + stack(t));
            }
        }
        finish(report);
    }

    private long runSimulated() throws Exception {
        sim.run(() -> {
            startNanos = tl.nanoTime();
            deadlineNanos = startNanos + duration.toNanos();
            startShards();
            while (tl.nanoTime() - deadlineNanos < 0) {
                step(Site.OUTSIDE, 0);
            }
            // Drain in virtual time: nothing may be left for the real-time shutdown, so that the
            // counts depend on the seed alone.
            draining = true;
            cancelPeriodicTimers();
            for (int round = 0; round < 1000; round++) {
                resumeAll();
                recoverWakeups();
                boolean waited = false;
                for (final Tracked t : futures) {
                    if (!t.future().isDone()) {
                        waited = true;
                        try {
                            sim.await(t.future());
                        } catch (ExecutionException e) {
                            // judged later
                        }
                    }
                }
                if (!waited) {
                    break;
                }
            }
            resumeAll();
            return null;
        });
        final long virtual = tl.nanoTime() - startNanos;
        simulationOver = true;
        final ShutdownReport report = timedShutdown();
        stop = true;
        judgeFuturesAtShutdown(report);
        release.countDown();
        finish(report);
        return virtual;
    }

    /**
     * A lost wake-up strands a core with a pending bit, and an injected failure of a call-function
     * entry strands its call queue (later calls coalesce behind it and send no IPI), until
     * something rings again: a waited call's watchdog does, nothing does for asynchronous calls.
     * Disarm the faults and ring every core once, as a watchdog would, so that the drain can
     * complete every future.
     */
    private void recoverWakeups() {
        for (int c = 0; c < cores; c++) {
            if (faults != null) {
                faults.dropWakeups(c, 0);
                faults.failHandlers(c, 0);
            }
            ic.resend(c, Vector.RESCHEDULE);
            ic.resend(c, Vector.CALL_FUNCTION);
        }
    }

    private void resumeAll() {
        for (int c = 0; c < cores; c++) {
            heldPreempted.set(c, 0);
            machine.core(c).resume();
        }
    }

    /**
     * Shuts the machine down on a thread of its own and times it. A shutdown that does not return
     * well after its deadline is a failure; the stuck work is then released so that it can, and
     * the run goes on with whatever it returns (an empty report if it never does).
     */
    private ShutdownReport timedShutdown() throws InterruptedException {
        final CompletableFuture<ShutdownReport> done = new CompletableFuture<>();
        final long[] took = new long[2];
        final Thread t = new Thread(() -> {
            final long gcBefore = gcMillis();
            final long t0 = System.nanoTime();
            try {
                final ShutdownReport r = machine.shutdown(cfg.shutdownTimeout());
                took[0] = System.nanoTime() - t0;
                took[1] = TimeUnit.MILLISECONDS.toNanos(gcMillis() - gcBefore);
                done.complete(r);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "torture-" + cfg.seed() + "-shutdown");
        t.setDaemon(true);
        shutdownThread = t;
        t.start();
        check(Oracle.SHUTDOWN_DEADLINE);
        final long grace = cfg.shutdownTimeout().toNanos() + TimeUnit.SECONDS.toNanos(3);
        ShutdownReport report;
        try {
            report = done.get(grace, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException hung) {
            fail(Oracle.SHUTDOWN_DEADLINE, "shutdown(" + cfg.shutdownTimeout().toMillis() + " ms) had not returned after "
                + TimeUnit.NANOSECONDS.toMillis(grace) + " ms (stuck " + cfg.stuck() + "): " + stack(t) + "; "
                + cfg.describe());
            release.countDown(); // let the stuck work go, so that the shutdown can end
            try {
                report = done.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
                fail(Oracle.SHUTDOWN_DEADLINE, "shutdown never returned, even after the release");
                return new ShutdownReport(List.of(), 0, List.of("shutdown never returned"));
            }
            return report;
        } catch (ExecutionException e) {
            fail(Oracle.CONTRACT, "shutdown threw " + e.getCause() + at(e.getCause()));
            return new ShutdownReport(List.of(), 0, List.of());
        }
        shutdownThread = null;
        final long excused = hookNanosOnShutdown.get() + took[1];
        final long limit = cfg.shutdownTimeout().toNanos() + TimeUnit.MILLISECONDS.toNanos(50);
        if (took[0] - excused > limit) {
            fail(Oracle.SHUTDOWN_DEADLINE, "shutdown(" + cfg.shutdownTimeout().toMillis() + " ms) took "
                + TimeUnit.NANOSECONDS.toMillis(took[0]) + " ms (" + TimeUnit.NANOSECONDS.toMillis(excused)
                + " ms of it our hooks and GC); stuck cores: " + report.stuckCores().size());
        }
        outcome("shutdown stuck cores " + report.stuckCores().size());
        return report;
    }

    private static long gcMillis() {
        long sum = 0;
        for (final GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
    }

    /** Futures must be complete now, bar the stuck work and what was running on a core shutdown reported stuck. */
    private void judgeFuturesAtShutdown(final ShutdownReport report) {
        final Set<Integer> stuckCores = new java.util.HashSet<>();
        for (final String s : report.stuckCores()) {
            final Matcher m = STUCK_CORE.matcher(s);
            if (m.find()) {
                stuckCores.add(Integer.parseInt(m.group(1)));
            }
        }
        final Map<Long, Integer> runningNow = new java.util.HashMap<>(running);
        int pending = 0;
        for (final Tracked t : futures) {
            check(Oracle.FUTURES_COMPLETE);
            if (t.future().isDone() || t.stuck()) {
                continue;
            }
            final Integer on = runningNow.get(t.id());
            if (on != null && stuckCores.contains(on) && (t.kind() == Kind.TASK || t.kind() == Kind.JOB)) {
                outcome("pending at shutdown: running on a stuck core");
                continue; // it never returned by the deadline: shutdown reported its core
            }
            if (++pending <= 5) {
                fail(Oracle.FUTURES_COMPLETE, t.kind() + " id " + t.id() + " still pending when shutdown returned"
                    + (on != null ? " (running on core " + on + ")" : " (not started)") + "; stuck cores " + stuckCores
                    + "; " + cfg.describe());
            }
        }
        if (pending > 5) {
            fail(Oracle.FUTURES_COMPLETE, (pending - 5) + " more futures pending when shutdown returned");
        }
    }

    /** After the release: quiescence, the report's payloads, the ledger, the spaces, the closed machine. */
    private void finish(final ShutdownReport report) {
        // Every core halts once the stuck work is released.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (final Core c : machine.cores()) {
            while (c.state() != Core.State.HALTED && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(1_000_000); // no event says a core's thread ended: poll, bounded
            }
            check(Oracle.QUIESCENCE);
            if (c.state() != Core.State.HALTED) {
                fail(Oracle.QUIESCENCE, "core " + c.id() + " never halted after the release: " + c.describe());
            }
        }
        for (final Tracked t : futures) {
            check(Oracle.QUIESCENCE);
            if (!t.future().isDone()) {
                fail(Oracle.QUIESCENCE, t.kind() + " id " + t.id() + " never completed, even after the release");
            }
        }
        for (final UndeliveredInterrupt u : report.undelivered()) {
            for (final Object p : u.payloads()) {
                sighting(u.cpu(), p);
            }
        }
        outcome("report undelivered interrupts " + Math.min(report.undelivered().size(), 1)); // whether any
        closedMachineRefuses();
        judgeLedger();
        outcome("spaces made " + allSpaces.size());
        for (final AddressSpace s : allSpaces) {
            check(Oracle.NO_STALE_TRANSLATION);
            final ShootdownStats st = s.stats();
            if (st.violations() > 0) {
                fail(Oracle.NO_STALE_TRANSLATION, st.violations() + " translations through a revoked entry after its "
                    + "shootdown returned in " + s + (s.isGlobal() ? " (global)" : "") + ": "
                    + s.staleAccessLog().stream().filter(a -> a.violation()).limit(3).toList() + "; " + cfg.describe());
            }
            outcome("space stale accesses in window " + (st.staleAccesses() > 0 ? "some" : "none"));
            if (s.isGlobal()) {
                outcome("space went global");
            }
        }
        if (faults != null) {
            faultCounts.get(Fault.DROP_WAKEUPS).add(faults.droppedWakeups());
            faultCounts.get(Fault.FREEZE).add(faults.frozenBoundaries());
            faultCounts.get(Fault.DELAY_DELIVERIES).add(faults.delayedDeliveries());
        }
    }

    /** Each slot against what its initiator learned. */
    private void judgeLedger() {
        final long n = ledger.size();
        int shown = 0;
        for (long id = 0; id < n; id++) {
            final int outcome = ledger.outcomeOf(id);
            final Kind kind = ledger.kindOf(id);
            final int seen = ledger.seenCount(id);
            final boolean payload = kind.ordinal() <= Kind.TRY_SEND.ordinal() || kind == Kind.PROGRAM;
            final Oracle o;
            final boolean ok;
            switch (outcome) {
                case Ledger.EXPECTED -> {
                    o = payload ? Oracle.PAYLOAD_EXACTLY_ONCE : Oracle.ACCEPTED_RUNS_ONCE;
                    ok = seen == 1;
                }
                case Ledger.MAYBE -> {
                    o = payload ? Oracle.PAYLOAD_EXACTLY_ONCE : Oracle.ACCEPTED_RUNS_ONCE;
                    ok = seen <= 1;
                }
                case Ledger.PENDING -> {
                    o = Oracle.QUIESCENCE;
                    ok = false;
                }
                case Ledger.ANSWERED -> {
                    o = Oracle.CONTRACT;
                    ok = seen == 1;
                }
                default -> { // UNUSED or REFUSED: never
                    o = Oracle.REFUSED_NEVER_RUNS;
                    ok = seen == 0;
                }
            }
            if (outcome == Ledger.UNUSED && seen == 0) {
                continue; // an untargeted core of a block: counted with its block, not on its own
            }
            check(o);
            if (!ok) {
                if (++shown <= 10) {
                    fail(o, kind + " slot " + id + " (" + name(outcome) + ") seen " + seen + " times"
                        + (payload ? " (handled or reported)" : " (ran)") + "; " + cfg.describe());
                } else {
                    fail(o, kind + " slot " + id + " (" + name(outcome) + ") seen " + seen + " times");
                }
            }
        }
    }

    private static String name(final int outcome) {
        return switch (outcome) {
            case Ledger.EXPECTED -> "accepted";
            case Ledger.REFUSED -> "refused";
            case Ledger.MAYBE -> "accepted, fate unknowable";
            case Ledger.PENDING -> "outcome never known";
            case Ledger.ANSWERED -> "its call timed out without naming it among the cores that did not answer";
            default -> "not targeted";
        };
    }

    private static String stack(final Thread t) {
        final StringBuilder sb = new StringBuilder();
        for (final StackTraceElement e : t.getStackTrace()) {
            sb.append("\n    at ").append(e);
        }
        return sb.toString();
    }

    // =====================================================================================
    // Initiators
    // =====================================================================================

    private void initiatorLoop(final int me) {
        int afterClose = 0;
        while (!stop && afterClose < 200) {
            if (me == 0 && cfg.stuck() != Stuck.NONE && !stuckArmed.get()
                && System.nanoTime() - startNanos > duration.toNanos() / 3) {
                armStuck();
            }
            step(Site.OUTSIDE, 0);
            if (machine.isClosed()) {
                afterClose++;
            }
        }
    }

    /** One random operation from {@code site}. */
    private void step(final Site site, final int depth) {
        final SplittableRandom r = rnd();
        final boolean mayWait = site == Site.OUTSIDE || site == Site.TASK || site == Site.JOB;
        final boolean onCore = site != Site.OUTSIDE && site != Site.HOOK;
        try {
            if (!mayWait) {
                nestedStep(site, depth, r);
                return;
            }
            final int x = r.nextInt(1000);
            if (faults != null && cfg.faults() && site == Site.OUTSIDE && x < cfg.faultRate()) {
                injectFault(r);
            } else if (x < 120) {
                send(site, depth, r);
            } else if (x < 310) {
                waitedCall(site, depth, r, pick(r, Kind.CALL, Kind.RUN, Kind.RUN_MANY, Kind.RUN_MANY, Kind.ON_EACH,
                    Kind.ON_OTHERS, Kind.DEADLINE_CALL));
            } else if (x < 450) {
                asyncCall(site, depth, r);
            } else if (x < 530) {
                final int y = r.nextInt(8);
                if (y < 4) {
                    submitTask(depth, r, false);
                } else if (y < 7) {
                    submitJob(depth, r, false);
                } else {
                    submitProgram(r);
                }
            } else if (x < 710) {
                changeMappings(site, r);
            } else if (x < 810) {
                if (onCore) {
                    access(site, r);
                } else {
                    submitTask(depth, r, false);
                }
            } else if (x < 860) {
                preemptOrResume(r);
            } else if (x < 910) {
                probe(site, r);
            } else if (x < 960) {
                shardOrTimer(site, r);
            } else if (site == Site.JOB) {
                op(Kind.PREEMPTION_POINT);
                scheduler.preemptionPoint();
            } else {
                send(site, depth, r);
            }
        } catch (TortureException deliberate) {
            throw deliberate;
        } catch (RuntimeException e) {
            check(Oracle.CONTRACT);
            fail(Oracle.CONTRACT, "an operation from " + site + " threw " + e + at(e));
        }
    }

    /** One operation from interrupt context (a handler, a call's function), where waiting is refused. */
    private void nestedStep(final Site site, final int depth, final SplittableRandom r) {
        final int x = r.nextInt(100);
        if (x < 35) {
            send(site, depth, r);
        } else if (x < 60) {
            asyncCall(site, depth, r);
        } else if (x < 68) {
            submitTask(depth, r, false);
        } else if (x < 72) {
            submitJob(depth, r, false);
        } else if (x < 82) {
            access(site, r);
        } else if (x < 88) {
            probe(site, r); // a mapping change in interrupt context: refused, and must change nothing
        } else if (x < 94) {
            // A waited call in interrupt context: refused (deadlock hazard), and must never run.
            waitedCall(site, depth, r, pick(r, Kind.RUN, Kind.RUN_MANY, Kind.ON_OTHERS));
        } else if (x < 97) {
            shardOrTimerNested(site, r);
        } else {
            preemptOrResume(r);
        }
    }

    @SafeVarargs
    private static <T> T pick(final SplittableRandom r, final T... choices) {
        return choices[r.nextInt(choices.length)];
    }

    private int behaviour(final SplittableRandom r, final int depth) {
        if (depth >= MAX_DEPTH) {
            return r.nextInt(10) == 0 ? THROW : NORMAL;
        }
        final int x = r.nextInt(100);
        return x < 70 ? NORMAL : x < 80 ? THROW : x < 88 ? BLOCK : NESTED;
    }

    private long blockNanos(final SplittableRandom r) {
        return tl.simulated() ? 1_000 + r.nextInt(20_000) : 10_000 + r.nextInt(r.nextInt(10) == 0 ? 2_000_000 : 200_000);
    }

    // ---- sends ----------------------------------------------------------------------------

    private void send(final Site site, final int depth, final SplittableRandom r) {
        if (r.nextInt(12) == 0 && depth < MAX_DEPTH) {
            // A burst to one core: more than its mailbox holds, so that FAIL refuses and BLOCK backs
            // off (draining its own mailboxes meanwhile, where handlers send again).
            final int target = r.nextInt(cores);
            final int n = cfg.mailboxCapacity() + 1 + r.nextInt(4);
            for (int i = 0; i < n; i++) {
                send(site, depth, r, Kind.SEND_UNICAST, target);
            }
            return;
        }
        final int x = r.nextInt(12);
        send(site, depth, r, x < 5 ? Kind.SEND_UNICAST : x < 8 ? Kind.SEND_MULTICAST : x < 10 ? Kind.SEND_SHORTHAND
            : Kind.TRY_SEND, -1);
    }

    private void send(final Site site, final int depth, final SplittableRandom r, final Kind kind, final int forced) {
        final long base = ledger.allocate(cores, kind);
        if (base < 0) {
            return;
        }
        op(kind);
        final Tag tag = new Tag(base, behaviour(r, depth), depth);
        final Vector v = r.nextBoolean() ? V1 : V2;
        final int self = selfId();
        long mask;
        Shorthand sh = null;
        int target = -1;
        switch (kind) {
            case SEND_MULTICAST -> {
                mask = 1 + r.nextLong(allMask());
            }
            case SEND_SHORTHAND -> {
                sh = self >= 0 ? pick(r, Shorthand.ALL, Shorthand.ALL_BUT_SELF, Shorthand.SELF)
                    : pick(r, Shorthand.ALL, Shorthand.ALL_BUT_SELF);
                mask = switch (sh) {
                    case SELF -> bit(self);
                    case ALL -> allMask();
                    default -> self >= 0 ? allMask() & ~bit(self) : allMask();
                };
            }
            default -> {
                target = forced >= 0 ? forced : r.nextInt(cores);
                mask = bit(target);
            }
        }
        for (long m = mask; m != 0; m &= m - 1) {
            ledger.outcome(base + Long.numberOfTrailingZeros(m), Ledger.PENDING);
        }
        final boolean fromTask = site == Site.TASK || site == Site.JOB;
        if (fromTask) {
            taskSending.set(self, 1);
        }
        long refused = 0;
        try {
            switch (kind) {
                case SEND_MULTICAST -> ic.send(toSet(mask), v, tag);
                case SEND_SHORTHAND -> ic.send(sh, v, tag);
                case TRY_SEND -> {
                    if (!ic.trySend(target, v, tag)) {
                        refused = mask;
                        outcome("trySend full");
                    }
                }
                default -> ic.send(target, v, tag);
            }
            outcome(refused == 0 ? "send accepted" : "send refused");
        } catch (MailboxFullException e) {
            // The targets it names did not get the payload; every other one did.
            for (long m = mask; m != 0; m &= m - 1) {
                final int cpu = Long.numberOfTrailingZeros(m);
                if (e.failed().contains(cpu)) {
                    refused |= bit(cpu);
                }
            }
            outcome("send mailbox full");
        } catch (MachineClosedException e) {
            // A multicast the machine closed in the middle of names the targets that got it.
            refused = mask;
            for (long m = mask; m != 0; m &= m - 1) {
                final int cpu = Long.numberOfTrailingZeros(m);
                if (e.delivered().contains(cpu)) {
                    refused &= ~bit(cpu);
                }
            }
            outcome(refused == mask ? "send closed" : "send closed midway");
        } catch (RuntimeException e) {
            unexpected(kind, site, e);
            for (long m = mask; m != 0; m &= m - 1) {
                ledger.outcome(base + Long.numberOfTrailingZeros(m), Ledger.MAYBE);
            }
            return;
        } finally {
            if (fromTask) {
                taskSending.set(self, 0);
            }
        }
        for (long m = mask; m != 0; m &= m - 1) {
            final int cpu = Long.numberOfTrailingZeros(m);
            ledger.outcome(base + cpu, (refused & bit(cpu)) != 0 ? Ledger.REFUSED : Ledger.EXPECTED);
        }
    }

    /** The handler of both vectors: record every payload first, then do what each says. */
    private void onIrq(final Interrupt irq) {
        final int cpu = irq.cpu();
        final List<Object> ps = irq.payloads();
        final int n = ps.size();
        for (int i = 0; i < n; i++) {
            sighting(cpu, ps.get(i));
        }
        boolean fail = false;
        for (int i = 0; i < n; i++) {
            if (ps.get(i) instanceof Tag t) {
                switch (t.behaviour()) {
                    case THROW -> fail = true;
                    case BLOCK -> pause(blockNanos(coreRandom[cpu]));
                    case NESTED -> step(Site.HANDLER, t.depth() + 1);
                    default -> { }
                }
            }
        }
        if (fail) {
            throw new TortureException("handler told to throw");
        }
    }

    /** A payload seen on {@code cpu}: handled, in an oops, or in the shutdown report. */
    private void sighting(final int cpu, final Object p) {
        if (p instanceof Tag t) {
            ledger.seen(t.base() + cpu);
        } else if (p instanceof Long id) {
            ledger.seen(id); // a program's payload is its slot
        }
    }

    // ---- cross-core calls -----------------------------------------------------------------

    private CallRec newCall(final Kind kind, final SplittableRandom r, final int depth, final boolean stuck) {
        final long base = ledger.allocate(cores, kind);
        if (base < 0) {
            return null;
        }
        return new CallRec(base, kind, stuck ? STUCK : behaviour(r, depth), depth);
    }

    private void body(final CallRec c, final int cpu) {
        ledger.seen(c.base + cpu);
        switch (c.behaviour) {
            case THROW -> throw new TortureException("function told to throw");
            case BLOCK -> pause(blockNanos(coreRandom[cpu]));
            case NESTED -> step(Site.FUNCTION, c.depth + 1);
            case STUCK -> awaitRelease();
            default -> { }
        }
    }

    private CoreAction action(final CallRec c) {
        return cpu -> body(c, cpu);
    }

    private CallFunction<Long> function(final CallRec c) {
        return cpu -> {
            body(c, cpu);
            return c.base + cpu;
        };
    }

    /** A condition that picks about three targets in four, records them, and sometimes throws. */
    private IntPredicate condition(final CallRec c, final SplittableRandom r) {
        final boolean throwing = r.nextInt(8) == 0;
        final int throwAt = r.nextInt(cores);
        final long choice = r.nextLong();
        return cpu -> {
            if (throwing && cpu == throwAt) {
                throw new TortureException("condition told to throw");
            }
            final boolean yes = ((choice >>> (cpu * 2)) & 3) != 0;
            if (yes) {
                c.mask |= bit(cpu); // the caller's thread alone evaluates it
            }
            return yes;
        };
    }

    private Broadcast shape(final SplittableRandom r) {
        return pick(r, Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2), Broadcast.tree(3), Broadcast.topology(),
            cfg.shape());
    }

    private void waitedCall(final Site site, final int depth, final SplittableRandom r, final Kind kind) {
        final CallRec c = newCall(kind, r, depth, false);
        if (c == null) {
            return;
        }
        op(kind);
        final int self = selfId();
        final int target = r.nextInt(cores);
        Object result = null;
        Throwable failure = null;
        try {
            switch (kind) {
                case CALL -> {
                    c.mask = bit(target);
                    result = smp.call(target, function(c));
                }
                case RUN -> {
                    c.mask = bit(target);
                    smp.run(target, action(c));
                }
                case RUN_MANY -> {
                    final long set = 1 + r.nextLong(allMask());
                    if (r.nextBoolean()) {
                        c.mask = set;
                        smp.run(toSet(set), null, action(c), shape(r));
                    } else {
                        final IntPredicate cond = condition(c, r);
                        smp.run(toSet(set), cond, action(c), shape(r));
                    }
                }
                case ON_EACH -> {
                    c.mask = allMask();
                    smp.onEachCore(action(c));
                }
                case DEADLINE_CALL -> {
                    final long set = 1 + r.nextLong(allMask());
                    c.mask = set;
                    timed[r.nextInt(timed.length)].run(toSet(set), null, action(c), shape(r));
                }
                default -> {
                    c.mask = self >= 0 ? allMask() & ~bit(self) : allMask();
                    smp.onOtherCores(action(c));
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        resolveCall(c, failure, site);
        if (failure == null) {
            // A waited call that returned ran on each of its targets exactly once, and nowhere else.
            check(Oracle.WAITED_CALL_RESULT);
            for (int cpu = 0; cpu < cores; cpu++) {
                final int want = (c.mask & bit(cpu)) != 0 ? 1 : 0;
                if (ledger.seenCount(c.base + cpu) != want) {
                    fail(Oracle.WAITED_CALL_RESULT, kind + " from " + site + " returned but its function ran "
                        + ledger.seenCount(c.base + cpu) + " times on core " + cpu + " (targets " + toSet(c.mask) + ")");
                }
            }
            if (kind == Kind.CALL && !Long.valueOf(c.base + target).equals(result)) {
                fail(Oracle.WAITED_CALL_RESULT, "call(" + target + ") returned " + result + ", not " + (c.base + target));
            }
        }
    }

    private void asyncCall(final Site site, final int depth, final SplittableRandom r) {
        if (inflightAsync.get() > 64 * cores) {
            send(site, depth, r);
            return;
        }
        // Async deadlines fire on a host-time thread outside a simulation's schedule: only on real threads.
        final Kind kind = pick(r, Kind.CALL_ASYNC, Kind.RUN_ASYNC, Kind.RUN_MANY_ASYNC, Kind.RUN_MANY_ASYNC,
            Kind.ON_EACH_ASYNC, Kind.ON_OTHERS_ASYNC, cfg.simulate() ? Kind.RUN_ASYNC : Kind.DEADLINE_ASYNC, Kind.CANCEL,
            cfg.simulate() ? Kind.CANCEL : Kind.GROUP_ASYNC, Kind.CONTINUATION);
        if (kind == Kind.CONTINUATION) {
            continuation(site, depth, r);
            return;
        }
        issueAsync(site, depth, r, kind, false);
    }

    private void issueAsync(final Site site, final int depth, final SplittableRandom r, final Kind kind, final boolean stuck) {
        final CallRec c = newCall(kind, r, depth, stuck);
        if (c == null) {
            return;
        }
        op(kind);
        final int self = selfId();
        // One read: the stuck phase ends (stuckTarget = -1) on another thread at any moment.
        final int stuck0 = stuckTarget;
        final int target = stuck0 >= 0 && machine.currentCore() == null ? stuck0 : r.nextInt(cores);
        final CallCompletion<?> f;
        try {
            switch (kind) {
                case CALL_ASYNC -> {
                    c.mask = bit(target);
                    f = smp.callAsync(target, function(c));
                }
                case RUN_ASYNC -> {
                    c.mask = bit(target);
                    f = smp.runAsync(target, action(c));
                }
                case RUN_MANY_ASYNC -> {
                    final long set = 1 + r.nextLong(allMask());
                    if (r.nextBoolean()) {
                        c.mask = set;
                        f = smp.runAsync(toSet(set), null, action(c), shape(r));
                    } else {
                        f = smp.runAsync(toSet(set), condition(c, r), action(c), shape(r));
                    }
                }
                case ON_EACH_ASYNC -> {
                    c.mask = allMask();
                    f = smp.onEachCoreAsync(action(c));
                }
                case DEADLINE_ASYNC, CANCEL, GROUP_ASYNC -> {
                    final long set = 1 + r.nextLong(allMask());
                    c.mask = set;
                    final SmpCall via = kind == Kind.DEADLINE_ASYNC ? timed[r.nextInt(timed.length)]
                        : kind == Kind.GROUP_ASYNC ? grouped : smp;
                    f = via.runAsync(toSet(set), null, action(c), shape(r));
                    if (kind == Kind.GROUP_ASYNC) {
                        check(Oracle.CONTRACT);
                        if (group.inFlight() > group.maxInFlight()) {
                            fail(Oracle.CONTRACT, group + " has more calls in flight than its bound");
                        }
                    }
                }
                default -> {
                    c.mask = self >= 0 ? allMask() & ~bit(self) : allMask();
                    f = smp.onOtherCoresAsync(action(c));
                }
            }
        } catch (RuntimeException e) {
            resolveCall(c, e, site);
            return;
        }
        inflightAsync.incrementAndGet();
        track(f, kind, c.base, stuck);
        if (kind == Kind.CANCEL) {
            final CpuSet cancelled = f.cancel(); // right away, or after a spin: it races the targets' start
            check(Oracle.CONTRACT);
            for (int cpu = cancelled.next(0); cpu >= 0; cpu = cancelled.next(cpu + 1)) {
                if ((c.mask & bit(cpu)) == 0) {
                    fail(Oracle.CONTRACT, "cancel() removed core " + cpu + ", which the call did not target (" + toSet(c.mask) + ")");
                }
            }
        }
        f.whenComplete((v, e) -> {
            inflightAsync.decrementAndGet();
            if (stuck) {
                markMaybe(c);
            } else {
                resolveCall(c, e == null ? null : unwrap(e), site);
            }
        });
        if (stuck) {
            markMaybe(c);
        }
    }

    /**
     * {@code callAsync(b, f).thenApplyOn(a, g)}, sometimes cancelled: f and g each run at most once
     * (exactly once when their futures say so), g never when f failed, and both futures complete.
     */
    private void continuation(final Site site, final int depth, final SplittableRandom r) {
        final CallRec first = newCall(Kind.CONTINUATION, r, depth, false);
        final CallRec then = first == null ? null : newCall(Kind.CONTINUATION, r, depth, false);
        if (then == null) {
            if (first != null) {
                resolveCall(first, new TortureException("no ledger room for the continuation"), site);
            }
            return;
        }
        op(Kind.CONTINUATION);
        final int b = r.nextInt(cores);
        final int a = r.nextInt(cores);
        first.mask = bit(b);
        then.mask = bit(a);
        final CallCompletion<Long> f;
        try {
            f = smp.callAsync(b, function(first));
        } catch (RuntimeException e) {
            resolveCall(first, e, site);
            resolveCall(then, e, site);
            return;
        }
        final CallCompletion<Long> g = f.thenApplyOn(a, v -> {
            body(then, a);
            return v;
        });
        inflightAsync.incrementAndGet();
        track(f, Kind.CONTINUATION, first.base, false);
        track(g, Kind.CONTINUATION, then.base, false);
        f.whenComplete((v, e) -> resolveCall(first, e == null ? null : unwrap(e), site));
        g.whenComplete((v, e) -> {
            inflightAsync.decrementAndGet();
            final Throwable why = e == null ? null : unwrap(e);
            if (why != null && f.isCompletedExceptionally() && why == unwrap(f.handle((x, y) -> y).join())) {
                set(then, then.mask, Ledger.REFUSED); // the source failed: g never ran
                outcome("continuation skipped: its source failed");
            } else {
                resolveCall(then, why, site);
            }
        });
        if (r.nextInt(4) == 0) {
            g.cancel();
        }
    }

    private void markMaybe(final CallRec c) {
        for (long m = c.mask; m != 0; m &= m - 1) {
            ledger.outcome(c.base + Long.numberOfTrailingZeros(m), Ledger.MAYBE);
        }
    }

    /** What a call's outcome says about each target: it ran, it never will, or nobody can know. */
    private void resolveCall(final CallRec c, final Throwable failure, final Site site) {
        final long mask = c.mask;
        if (failure == null) {
            set(c, mask, Ledger.EXPECTED);
            outcome("call completed");
        } else if (failure instanceof SmpCallException e) {
            for (long m = mask; m != 0; m &= m - 1) {
                final int cpu = Long.numberOfTrailingZeros(m);
                final Throwable why = e.failures().get(cpu);
                ledger.outcome(c.base + cpu, why instanceof MachineClosedException ? Ledger.REFUSED : Ledger.EXPECTED);
            }
            for (final Integer cpu : e.failures().keySet()) {
                check(Oracle.CONTRACT);
                if ((mask & bit(cpu)) == 0) {
                    fail(Oracle.CONTRACT, c.kind + " failed on core " + cpu + ", which it did not target (" + toSet(mask) + ")");
                }
            }
            outcome(e.failures().values().stream().allMatch(t -> t instanceof TortureException)
                ? "call failed: function threw" : "call failed: closed on some targets");
        } else if (failure instanceof CallTimeoutException e) {
            timedOut(c, e);
        } else if (failure instanceof MachineClosedException e && e.getCause() instanceof CallTimeoutException t) {
            timedOut(c, t); // abandoned at shutdown: what the deadline or watchdog found
        } else if (failure instanceof MachineClosedException e) {
            // The targets that ran before the shutdown gave the others up: exactly once; the rest never.
            for (long m = mask; m != 0; m &= m - 1) {
                final int cpu = Long.numberOfTrailingZeros(m);
                ledger.outcome(c.base + cpu, e.delivered().contains(cpu) ? Ledger.EXPECTED : Ledger.REFUSED);
            }
            outcome(e.delivered().isEmpty() ? "call refused: closed" : "call given up in part: closed");
        } else if (failure instanceof CallCancelledException e) {
            check(Oracle.CONTRACT);
            for (long m = mask; m != 0; m &= m - 1) {
                final int cpu = Long.numberOfTrailingZeros(m);
                // A cancelled target never runs it; one that had started ran it once.
                ledger.outcome(c.base + cpu, e.cancelled().contains(cpu) ? Ledger.REFUSED : Ledger.EXPECTED);
            }
            outcome("call cancelled");
        } else if (failure instanceof MailboxFullException) {
            set(c, mask, Ledger.REFUSED); // a full queue or service group refuses the call whole
            outcome("call refused: queue or group full");
        } else if (failure instanceof IllegalStateException
            && (site == Site.HANDLER || site == Site.FUNCTION || !machineCoreInterruptsOn())) {
            set(c, mask, Ledger.REFUSED); // deadlock hazard: nothing was queued
            outcome("call refused: deadlock hazard");
        } else if (failure instanceof TortureException) {
            set(c, mask, Ledger.REFUSED); // the condition threw before anything was sent
            outcome("call refused: condition threw");
        } else {
            unexpected(c.kind, site, failure);
            set(c, mask, Ledger.MAYBE);
        }
    }

    /**
     * A timeout: a target it cancelled never runs the function; one it names otherwise (running,
     * or silent on the watchdog's terms) runs it at most once; one it does not name answered.
     */
    private void timedOut(final CallRec c, final CallTimeoutException e) {
        for (long m = c.mask; m != 0; m &= m - 1) {
            final int cpu = Long.numberOfTrailingZeros(m);
            ledger.outcome(c.base + cpu, e.cancelled().contains(cpu) ? Ledger.REFUSED
                : e.cpus().contains(cpu) ? Ledger.MAYBE : Ledger.ANSWERED);
        }
        outcome(e.cancelled().isEmpty() ? "call timed out" : "call timed out: targets cancelled");
    }

    private boolean machineCoreInterruptsOn() {
        final Core c = machine.currentCore();
        return c == null || c.interruptsEnabled();
    }

    private void set(final CallRec c, final long mask, final int outcome) {
        for (long m = mask; m != 0; m &= m - 1) {
            ledger.outcome(c.base + Long.numberOfTrailingZeros(m), outcome);
        }
    }

    // ---- tasks, jobs, programs ------------------------------------------------------------

    private void submitTask(final int depth, final SplittableRandom r, final boolean stuck) {
        if (!stuck && (depth >= MAX_DEPTH || inflightTasks.get() > 8 * cores)) {
            return;
        }
        final long id = ledger.allocate(1, Kind.TASK);
        if (id < 0) {
            return;
        }
        op(Kind.TASK);
        final int cpu = r.nextInt(cores);
        final boolean reader = r.nextInt(3) == 0;
        ledger.outcome(id, stuck ? Ledger.MAYBE : Ledger.PENDING);
        final CompletableFuture<Void> f;
        try {
            f = machine.core(cpu).submit(() -> taskBody(id, depth + 1, reader, stuck));
        } catch (MachineClosedException e) {
            ledger.outcome(id, Ledger.REFUSED);
            outcome("task refused");
            return;
        }
        inflightTasks.incrementAndGet();
        track(f, Kind.TASK, id, stuck);
        f.whenComplete((v, e) -> {
            inflightTasks.decrementAndGet();
            if (!stuck) {
                final Throwable t = e == null ? null : unwrap(e);
                // Rejected by shutdown: never ran. Anything else (success, our throw): it ran.
                ledger.outcome(id, t instanceof MachineClosedException ? Ledger.REFUSED : Ledger.EXPECTED);
                outcome(t == null ? "task ran" : t instanceof MachineClosedException ? "task rejected" : "task threw");
            }
        });
    }

    private void taskBody(final long id, final int depth, final boolean reader, final boolean stuck) {
        ledger.seen(id);
        final Core self = Core.current();
        running.put(id, self.id());
        try {
            if (stuck) {
                awaitRelease();
                return;
            }
            final SplittableRandom r = coreRandom[self.id()];
            if (reader) {
                access(Site.TASK, r);
            } else {
                final int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    step(Site.TASK, depth);
                    self.checkpoint();
                }
            }
            final int end = r.nextInt(100);
            if (end < 4) {
                throw new TortureException("task told to throw");
            } else if (end < 6) {
                self.disableInterrupts(); // returned with interrupts off: the core repairs it and records an oops
            } else if (end < 7) {
                self.disablePreemption(); // likewise
            }
        } finally {
            running.remove(id);
        }
    }

    private void submitJob(final int depth, final SplittableRandom r, final boolean stuck) {
        if (!stuck && (depth >= MAX_DEPTH || inflightTasks.get() > 8 * cores)) {
            return;
        }
        final long id = ledger.allocate(1, Kind.JOB);
        if (id < 0) {
            return;
        }
        op(Kind.JOB);
        // One read: the stuck phase ends (stuckTarget = -1) on another thread at any moment.
        final int stuck0 = stuckTarget;
        final int cpu = stuck0 >= 0 && machine.currentCore() == null ? stuck0 : r.nextInt(cores);
        final int behaviour = stuck ? STUCK : behaviour(r, depth);
        ledger.outcome(id, stuck ? Ledger.MAYBE : Ledger.PENDING);
        final Runnable job = () -> jobBody(id, depth + 1, behaviour);
        final CompletableFuture<Void> f;
        try {
            // Least-loaded placement too, in a simulation as well (its tie-break is deterministic).
            f = stuck0 < 0 && r.nextBoolean() ? scheduler.submit(job) : scheduler.submit(cpu, job);
        } catch (MachineClosedException e) {
            ledger.outcome(id, Ledger.REFUSED);
            outcome("job refused");
            return;
        }
        inflightTasks.incrementAndGet();
        track(f, Kind.JOB, id, stuck);
        f.whenComplete((v, e) -> {
            inflightTasks.decrementAndGet();
            if (!stuck) {
                final Throwable t = e == null ? null : unwrap(e);
                ledger.outcome(id, t instanceof MachineClosedException ? Ledger.REFUSED : Ledger.EXPECTED);
                outcome(t == null ? "job ran" : t instanceof MachineClosedException ? "job rejected" : "job threw");
            }
        });
    }

    private void jobBody(final long id, final int depth, final int behaviour) {
        ledger.seen(id);
        final Core self = Core.current();
        running.put(id, self.id());
        try {
            switch (behaviour) {
                case THROW -> throw new TortureException("job told to throw");
                case BLOCK -> pause(blockNanos(coreRandom[self.id()]));
                case NESTED -> {
                    step(Site.JOB, depth);
                    op(Kind.PREEMPTION_POINT);
                    scheduler.preemptionPoint();
                    step(Site.JOB, depth);
                }
                case STUCK -> awaitRelease();
                default -> {
                    op(Kind.PREEMPTION_POINT);
                    scheduler.preemptionPoint();
                }
            }
        } finally {
            running.remove(id);
        }
    }

    /** A program: an IPI whose payload is its slot, then a load and a store through a space. */
    private void submitProgram(final SplittableRandom r) {
        final long base = ledger.allocate(cores, Kind.PROGRAM);
        if (base < 0) {
            return;
        }
        op(Kind.PROGRAM);
        final int target = r.nextInt(cores);
        final AddressSpace s = spaces.get(r.nextInt(2));
        final long vaddr = (long) r.nextInt(SPACE_PAGES) * PAGE + r.nextInt(PAGE);
        final Program p = Program.builder().set(1, base + target).sendIpi(target, V1.number(), 1).load(0, vaddr)
            .store(vaddr, 1).compute(8).build();
        final long slot = base + target;
        ledger.outcome(slot, Ledger.PENDING);
        final CompletableFuture<?> f;
        try {
            f = machine.core(r.nextInt(cores)).execute(p, Mode.KERNEL, mmu.translation(s));
        } catch (MachineClosedException e) {
            ledger.outcome(slot, Ledger.REFUSED);
            return;
        }
        track(f, Kind.PROGRAM, slot, false);
        f.whenComplete((v, e) -> {
            final Throwable t = e == null ? null : unwrap(e);
            if (t == null || t instanceof CpuException) {
                ledger.outcome(slot, Ledger.EXPECTED); // the send was its first instruction
                outcome(t == null ? "program ran" : "program killed by a fault");
            } else if (t instanceof MailboxFullException || t instanceof MachineClosedException) {
                ledger.outcome(slot, Ledger.REFUSED); // refused send, or never ran
                outcome("program refused");
            } else {
                unexpected(Kind.PROGRAM, Site.TASK, t);
                ledger.outcome(slot, Ledger.MAYBE);
            }
        });
    }

    // ---- memory ---------------------------------------------------------------------------

    /** A new shared space with every page mapped (no shootdown: nothing was present). */
    private AddressSpace freshSpace(final SplittableRandom r) {
        spacesMade.incrementAndGet();
        final AddressSpace s = mmu.newAddressSpace(SPACE_PAGES);
        for (int p = 0; p < SPACE_PAGES; p++) {
            s.map(p, r.nextInt(FRAMES), Pte.READ | Pte.WRITE);
        }
        allSpaces.add(s);
        return s;
    }

    private static int perms(final SplittableRandom r) {
        return pick(r, Pte.READ, Pte.READ | Pte.WRITE, Pte.READ | Pte.WRITE, Pte.READ | Pte.WRITE | Pte.EXEC, 0);
    }

    private void changeMappings(final Site site, final SplittableRandom r) {
        if (r.nextInt(25) == 0 && spacesMade.get() < 256) {
            // A fresh space: its first shootdowns, and its move to a global ASID when broadcast
            // invalidation is on, happen again while both initiators and the readers are at it.
            op(Kind.MAP);
            try {
                spaces.set(r.nextInt(2), freshSpace(r));
            } catch (MachineClosedException e) {
                outcome("mapping change refused: closed");
            }
            return;
        }
        final AddressSpace s = spaces.get(r.nextInt(2));
        final int vpn = r.nextInt(SPACE_PAGES);
        final int n = 1 + r.nextInt(Math.min(3, SPACE_PAGES - vpn));
        final Kind kind = pick(r, Kind.MAP, Kind.MAP, Kind.UNMAP, Kind.PROTECT, Kind.PROTECT, Kind.GATHER);
        op(kind);
        try {
            switch (kind) {
                case MAP -> s.map(vpn, r.nextInt(FRAMES), perms(r));
                case UNMAP -> s.unmap(vpn, n);
                case PROTECT -> s.protect(vpn, n, perms(r));
                default -> {
                    try (MmuGather g = s.gather()) {
                        final int k = 1 + r.nextInt(6);
                        for (int i = 0; i < k; i++) {
                            final int p = r.nextInt(SPACE_PAGES);
                            switch (r.nextInt(3)) {
                                case 0 -> g.map(p, r.nextInt(FRAMES), perms(r));
                                case 1 -> g.unmap(p, 1);
                                default -> g.protect(p, 1, perms(r));
                            }
                        }
                    }
                }
            }
            outcome("mapping change completed");
        } catch (CallTimeoutException e) {
            outcome("mapping change timed out");
        } catch (MachineClosedException e) {
            outcome("mapping change refused: closed");
        } catch (SmpCallException e) {
            if (e.failures().values().stream().allMatch(t -> t instanceof MachineClosedException)) {
                outcome("mapping change: targets closed");
            } else {
                unexpected(kind, site, e);
            }
        }
    }

    /** Reads and writes through a space on this core, taking interrupts between accesses in a task. */
    private void access(final Site site, final SplittableRandom r) {
        op(Kind.ACCESS);
        final Core self = Core.current();
        final AddressSpace s = r.nextInt(4) == 0 ? probe : spaces.get(r.nextInt(2));
        final int pages = s == probe ? PROBE_PAGES : SPACE_PAGES;
        mmu.switchTo(s);
        final int n = site == Site.TASK ? 4 + r.nextInt(40) : 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            final long vaddr = (long) r.nextInt(pages) * PAGE + r.nextInt(PAGE);
            try {
                if (r.nextInt(3) == 0) {
                    mmu.write(s, vaddr, i);
                } else {
                    mmu.read(s, vaddr);
                }
            } catch (PageFaultException unmappedOrReadOnly) {
                // the page is being changed: a fault is a right answer
            }
            if (site == Site.TASK || site == Site.JOB) {
                self.checkpoint();
            }
        }
        if (r.nextInt(8) == 0) {
            mmu.switchTo(null); // lazy: the next shootdown skips us, the next switch catches up
        }
    }

    /**
     * Where a change must be refused: with interrupts off (a task), in interrupt context, or on a
     * closing machine. A refused change must leave the PTE as it was. Probe pages are changed only
     * here, one probe per page at a time, so "as it was" is well defined.
     */
    private void probe(final Site site, final SplittableRandom r) {
        op(Kind.PROBE);
        final Core self = machine.currentCore();
        final boolean irqOff = site == Site.TASK || site == Site.JOB;
        if (irqOff && r.nextInt(4) == 0) {
            // A waited call with interrupts off: refused, and its function must never run.
            final boolean was = self.disableInterrupts();
            try {
                waitedCall(site, 0, r, pick(r, Kind.RUN, Kind.ON_OTHERS, Kind.RUN_MANY));
            } finally {
                self.restoreInterrupts(was);
            }
            return;
        }
        final int p = r.nextInt(PROBE_PAGES);
        if (!probeLocks[p].compareAndSet(false, true)) {
            return;
        }
        try {
            if (irqOff) {
                final boolean was = self.disableInterrupts();
                try {
                    probeChange(site + " with interrupts off", p, r);
                } finally {
                    self.restoreInterrupts(was);
                }
            } else {
                probeChange(site.toString(), p, r);
            }
        } finally {
            probeLocks[p].set(false);
        }
    }

    private void probeChange(final String where, final int p, final SplittableRandom r) {
        final Pte before = probe.pte(p);
        final int x = r.nextInt(3);
        final String what = x == 0 ? "map" : x == 1 ? "unmap" : "protect";
        RuntimeException refusal = null;
        try {
            switch (x) {
                case 0 -> probe.map(p, r.nextInt(FRAMES), perms(r));
                case 1 -> probe.unmap(p, 1);
                default -> probe.protect(p, 1, perms(r));
            }
            outcome("probe change accepted");
        } catch (IllegalStateException | MachineClosedException e) {
            refusal = e;
        } catch (CallTimeoutException e) {
            outcome("probe change timed out");
        } catch (SmpCallException e) {
            // Accepted, then the closing machine gave some targets up: not a refusal of the change.
            if (!e.failures().values().stream().allMatch(t -> t instanceof MachineClosedException)) {
                unexpected(Kind.PROBE, Site.OUTSIDE, e);
            }
            outcome("probe change: targets closed");
        }
        if (refusal != null) {
            outcome("probe change refused: " + refusal.getClass().getSimpleName());
            check(Oracle.REFUSED_CHANGES_NOTHING);
            final Pte after = probe.pte(p);
            if (!after.equals(before)) {
                fail(Oracle.REFUSED_CHANGES_NOTHING, what + " of page " + p + " from " + where + " was refused ("
                    + refusal.getClass().getSimpleName() + ": " + refusal.getMessage() + ") but changed its PTE from "
                    + before + " to " + after);
            }
        }
    }

    // ---- Sharded and timers ------------------------------------------------------------------

    /** One core's sharded instance: where it was made, and how often it was touched (on its core only). */
    private static final class ShardCell {
        final int cpu;
        long touches;

        ShardCell(final int cpu) {
            this.cpu = cpu;
        }
    }

    /** Makes the run's sharded instances, each on its core; from the run's outside caller, before the mix. */
    private void startShards() {
        shards = Sharded.start(smp, cpu -> {
            check(Oracle.SHARD_ON_ITS_CORE);
            if (selfId() != cpu) {
                fail(Oracle.SHARD_ON_ITS_CORE, "core " + cpu + "'s instance was made on " + selfId());
            }
            return new ShardCell(cpu);
        });
    }

    /** A cell touched by a function: it must be its own core's; {@code runs} counts the function's runs. */
    private int touch(final ShardCell cell, final AtomicInteger runs, final boolean mayThrow, final SplittableRandom r) {
        check(Oracle.SHARD_ON_ITS_CORE);
        if (selfId() != cell.cpu) {
            fail(Oracle.SHARD_ON_ITS_CORE, "core " + cell.cpu + "'s instance touched on " + selfId());
        }
        if (runs != null && runs.incrementAndGet() != 1) {
            fail(Oracle.SHARD_ON_ITS_CORE, "a sharded call's function ran twice on core " + cell.cpu);
        }
        cell.touches++;
        if (mayThrow && r.nextInt(10) == 0) {
            throw new TortureException("shard function told to throw");
        }
        return cell.cpu;
    }

    /** A Sharded call or a timer from a site that may wait. */
    private void shardOrTimer(final Site site, final SplittableRandom r) {
        final int x = r.nextInt(10);
        if (x < 3) {
            shardedWaited(site, r);
        } else if (x < 6) {
            shardedAsync(site, r);
        } else {
            timer(site, r);
        }
    }

    /** From interrupt context: only what returns at once (waiting there is refused). */
    private void shardOrTimerNested(final Site site, final SplittableRandom r) {
        if (r.nextBoolean()) {
            shardedAsync(site, r);
        } else {
            timer(site, r);
        }
    }

    private void shardedWaited(final Site site, final SplittableRandom r) {
        final Sharded<ShardCell> s = shards;
        if (s == null) {
            return;
        }
        final boolean mapReduce = r.nextInt(3) == 0;
        final Kind kind = mapReduce ? Kind.SHARDED_MAP_REDUCE : Kind.SHARDED_INVOKE;
        op(kind);
        final int target = r.nextInt(cores);
        final AtomicInteger runs = new AtomicInteger();
        try {
            if (mapReduce) {
                final long seen = s.<Long, Long>mapReduce(cell -> 1L << touch(cell, null, false, r), 0L, Long::sum);
                check(Oracle.WAITED_CALL_RESULT);
                if (seen != allMask()) {
                    fail(Oracle.WAITED_CALL_RESULT, "mapReduce visited " + Long.toBinaryString(seen) + ", not every core once");
                }
            } else {
                final int on = s.invokeOn(target, cell -> touch(cell, runs, true, coreRandom[cell.cpu]));
                check(Oracle.WAITED_CALL_RESULT);
                if (on != target || runs.get() != 1) {
                    fail(Oracle.WAITED_CALL_RESULT, "invokeOn(" + target + ") ran on " + on + ", " + runs.get() + " times");
                }
            }
            outcome("sharded call returned");
        } catch (RuntimeException e) {
            shardedRefused(kind, site, e);
        }
    }

    private void shardedAsync(final Site site, final SplittableRandom r) {
        final Sharded<ShardCell> s = shards;
        if (s == null || inflightAsync.get() > 64 * cores) {
            return;
        }
        final boolean mapReduce = r.nextInt(3) == 0;
        final Kind kind = mapReduce ? Kind.SHARDED_MAP_REDUCE_ASYNC : Kind.SHARDED_INVOKE_ASYNC;
        op(kind);
        final int target = r.nextInt(cores);
        final AtomicInteger runs = new AtomicInteger();
        final CompletableFuture<?> f;
        try {
            f = mapReduce ? s.<Long, Long>mapReduceAsync(cell -> 1L << touch(cell, null, false, null), 0L, Long::sum)
                : s.invokeOnAsync(target, cell -> touch(cell, runs, true, coreRandom[cell.cpu]));
        } catch (RuntimeException e) {
            shardedRefused(kind, site, e);
            return;
        }
        inflightAsync.incrementAndGet();
        track(f, kind, -1, false);
        f.whenComplete((v, e) -> {
            inflightAsync.decrementAndGet();
            if (e == null) {
                check(Oracle.WAITED_CALL_RESULT);
                final long want = mapReduce ? allMask() : target;
                if (((Number) v).longValue() != want || (!mapReduce && runs.get() != 1)) {
                    fail(Oracle.WAITED_CALL_RESULT, kind + " gave " + v + " (" + runs.get() + " runs), not " + want);
                }
                outcome("sharded async call completed");
            } else {
                final Throwable t = unwrap(e);
                if (t instanceof SmpCallException || t instanceof CallTimeoutException
                    || t instanceof MachineClosedException) { // the one shutdown exception: closed before it ran
                    outcome("sharded async call failed: " + t.getClass().getSimpleName());
                } else {
                    unexpected(kind, site, t);
                }
            }
        });
    }

    /**
     * What a Sharded call may throw: closed (the machine, or the Sharded by shutdown), refused (a
     * deadlock hazard; a bounded call queue that is full), failed, timed out.
     */
    private void shardedRefused(final Kind kind, final Site site, final RuntimeException e) {
        if (e instanceof MachineClosedException || e instanceof SmpCallException || e instanceof CallTimeoutException
            || e instanceof IllegalStateException || e instanceof MailboxFullException) {
            outcome("sharded call refused or failed: " + e.getClass().getSimpleName());
        } else {
            unexpected(kind, site, e);
        }
    }

    /** A one-shot or periodic timer on a random core; its body checks the core and the time. */
    private void timer(final Site site, final SplittableRandom r) {
        final int cpu = r.nextInt(cores);
        final boolean periodic = !draining && r.nextInt(4) == 0;
        final long delay = tl.simulated() ? r.nextInt(200_000) : r.nextInt(r.nextInt(8) == 0 ? 50_000_000 : 2_000_000);
        final Kind kind = periodic ? Kind.TIMER_PERIODIC : Kind.TIMER;
        op(kind);
        final long scheduledAt = tl.nanoTime();
        final AtomicBoolean cancelled = new AtomicBoolean();
        final Runnable body = () -> {
            check(Oracle.TIMER_ON_TIME);
            if (selfId() != cpu) {
                fail(Oracle.TIMER_ON_TIME, "a timer for core " + cpu + " ran on " + selfId());
            }
            if (tl.nanoTime() - scheduledAt < delay) {
                fail(Oracle.TIMER_ON_TIME, "a timer ran " + (tl.nanoTime() - scheduledAt) + " ns after scheduling, before its "
                    + delay + " ns");
            }
            if (!periodic && cancelled.get()) {
                fail(Oracle.TIMER_ON_TIME, "a one-shot timer ran after its cancel returned true");
            }
        };
        final CoreTimer t;
        try {
            t = periodic ? machine.core(cpu).schedulePeriodic(Duration.ofNanos(delay), Duration.ofNanos(200_000 + r.nextInt(800_000)), body)
                : machine.core(cpu).schedule(Duration.ofNanos(delay), body);
        } catch (MachineClosedException e) {
            outcome("timer refused: closed");
            return;
        } catch (RuntimeException e) {
            unexpected(kind, site, e);
            return;
        }
        track(t, kind, -1, false);
        if (periodic) {
            periodicTimers.add(t);
            if (draining) {
                cancelPeriodicTimers(); // Dekker with the drain: it sets draining, then cancels what it finds
            }
        } else if (r.nextInt(4) == 0) {
            op(Kind.TIMER_CANCEL);
            cancelled.set(t.cancel()); // set after cancel: a run that saw false ran before it; one after sees true
            outcome(cancelled.get() ? "timer cancelled" : "timer already ran");
        }
    }

    /** Cancels every periodic timer still running (the simulated drain: they would never complete). */
    private void cancelPeriodicTimers() {
        CoreTimer t;
        while ((t = periodicTimers.poll()) != null) {
            op(Kind.TIMER_CANCEL);
            t.cancel();
        }
    }

    // ---- preemption and faults -------------------------------------------------------------

    private void preemptOrResume(final SplittableRandom r) {
        final int cpu = r.nextInt(cores);
        final Core c = machine.core(cpu);
        if (draining || r.nextInt(3) == 0) {
            op(Kind.RESUME);
            c.resume();
            for (int i = 0; i < cores; i++) { // and every core held until resumed: waited calls would time out
                if (heldPreempted.compareAndSet(i, 1, 0)) {
                    machine.core(i).resume();
                }
            }
            return;
        }
        op(Kind.PREEMPT);
        if (r.nextInt(30) == 0 && heldPreempted.compareAndSet(cpu, 0, 1)) {
            c.preemptUntilResumed(); // someone resumes it: a later RESUME, directed yield, the end of the run
        } else {
            c.preempt(Duration.ofNanos(tl.simulated() ? 1_000 + r.nextInt(50_000) : 10_000 + r.nextInt(500_000)));
        }
    }

    private void injectFault(final SplittableRandom r) {
        final int cpu = r.nextInt(cores);
        final boolean real = !tl.simulated();
        switch (r.nextInt(real ? 6 : 2)) {
            case 0 -> {
                faults.dropWakeups(cpu, r.nextInt(8) == 0 ? 2 : 1); // two lost in a row outlast the watchdog's re-send
                fault(Fault.DROP_WAKEUPS);
            }
            case 1 -> {
                faults.failHandlers(cpu, 1 + r.nextInt(2));
                fault(Fault.FAIL_HANDLERS);
            }
            // A freeze and a delay block for real: outside a simulation only.
            case 2 -> {
                faults.freeze(cpu, Duration.ofNanos(r.nextInt(20) == 0 ? 20_000_000 : 20_000 + r.nextInt(1_000_000)));
                fault(Fault.FREEZE);
            }
            case 3 -> {
                faults.delayDeliveries(cpu, Duration.ofNanos(5_000 + r.nextInt(100_000)));
                fault(Fault.DELAY_DELIVERIES);
            }
            default -> {
                faults.thaw(cpu);
                faults.delayDeliveries(cpu, Duration.ZERO);
                fault(Fault.THAW);
            }
        }
    }

    /**
     * Just before the shutdown, more calls or jobs for the core the stuck call or job holds: queued
     * behind it so late that no other core steals or takes them first, they are the shutdown's to fail.
     */
    private void queueBehindTheStuckWork() {
        final int cpu = stuckCore;
        if (cpu < 0) {
            return;
        }
        final SplittableRandom r = threadRandom.get();
        stuckTarget = cpu;
        for (int i = 0; i < 3; i++) {
            if (cfg.stuck() == Stuck.JOB) {
                submitJob(0, r, false);
            } else {
                issueAsync(Site.OUTSIDE, 0, r, Kind.RUN_ASYNC, false);
            }
        }
        stuckTarget = -1;
    }

    private void armStuck() {
        if (!stuckArmed.compareAndSet(false, true)) {
            return;
        }
        fault(Fault.STUCK);
        final SplittableRandom r = rnd();
        switch (cfg.stuck()) {
            case HANDLER -> stuckCpu = r.nextInt(cores);
            case HANDLER_IN_SEND -> stuckInSend = true;
            case CALL -> {
                // The stuck call, then calls queued behind it on the same core: they are in the
                // batch its handler took, or queued after it, and must be failed at shutdown.
                final int cpu = r.nextInt(cores);
                stuckCore = cpu;
                stuckTarget = cpu;
                issueAsync(Site.OUTSIDE, 0, r, Kind.CALL_ASYNC, true);
                for (int i = 0; i < 4; i++) {
                    issueAsync(Site.OUTSIDE, 0, r, Kind.RUN_ASYNC, false);
                }
                stuckTarget = -1;
            }
            case JOB -> {
                final int cpu = r.nextInt(cores);
                stuckCore = cpu;
                stuckTarget = cpu;
                submitJob(0, r, true);
                for (int i = 0; i < 4; i++) {
                    submitJob(0, r, false); // queued behind the stuck job (unless stolen)
                }
                stuckTarget = -1;
            }
            case TASK -> submitTask(0, r, true);
            default -> { }
        }
        outcome("stuck " + cfg.stuck());
    }

    /** The run's fault injector: {@link Faults}, plus a handler entry that blocks until the release. */
    private final class Injector implements FaultInjector {
        private final Faults delegate;
        private final AtomicBoolean struck = new AtomicBoolean();

        Injector(final Faults delegate) {
            this.delegate = delegate;
        }

        @Override
        public void atBoundary(final int cpu) {
            delegate.atBoundary(cpu);
        }

        @Override
        public void beforeDelivery(final int cpu, final int vector) {
            delegate.beforeDelivery(cpu, vector);
        }

        @Override
        public void inHandler(final int cpu, final int vector) throws Exception {
            if ((stuckCpu == cpu || stuckInSend && taskSending.get(cpu) != 0) && struck.compareAndSet(false, true)) {
                outcome("stuck handler struck" + (stuckInSend ? " inside a send" : ""));
                awaitRelease(); // a handler that does not return until the machine has shut down
            }
            delegate.inHandler(cpu, vector);
        }

        @Override
        public boolean dropWakeup(final int cpu) {
            return delegate.dropWakeup(cpu);
        }
    }

    // ---- listeners and hooks -------------------------------------------------------------

    /**
     * Every oops. Payloads of a handler entry that failed before our handler ran (an injected
     * fault) count as seen: the oops is where they were reported; our own handler recorded its
     * payloads before it threw. Then, at random: throw, block a while, or re-enter with a send.
     */
    private void onOops(final Oops oops) {
        final long t0 = System.nanoTime();
        op(Kind.HOOK);
        if (!(oops.error() instanceof TortureException)) {
            for (final Object p : oops.payloads()) {
                sighting(oops.cpu(), p);
            }
        }
        try {
            final SplittableRandom r = oops.cpu() >= 0 && machine.currentCore() != null ? coreRandom[oops.cpu()]
                : threadRandom.get();
            switch (r.nextInt(6)) {
                case 0 -> throw new TortureException("oops listener told to throw");
                case 1 -> pause(blockNanos(r) / 4);
                case 2 -> send(Site.HOOK, MAX_DEPTH, r);
                default -> { }
            }
        } finally {
            excuse(t0);
        }
    }

    private void excuse(final long t0) {
        if (Thread.currentThread() == shutdownThread) {
            hookNanosOnShutdown.addAndGet(System.nanoTime() - t0);
        }
    }

    /** Runs on a core resuming with a PV flush pending: throws (an oops), blocks a while, or re-enters. */
    private void onPvFlush(final int cpu) {
        op(Kind.HOOK);
        final SplittableRandom r = coreRandom[cpu];
        switch (r.nextInt(5)) {
            case 0 -> pause(blockNanos(r) / 8);
            case 1 -> send(Site.HOOK, MAX_DEPTH, r);
            case 2 -> throw new TortureException("PV flush hook told to throw");
            default -> { }
        }
    }

    private ExceptionHandler.Action onPageFault(final CpuException fault) {
        op(Kind.HOOK);
        final SplittableRandom r = rnd();
        return switch (r.nextInt(4)) {
            case 0 -> throw new TortureException("exception handler told to throw");
            case 1 -> ExceptionHandler.Action.SKIP;
            default -> ExceptionHandler.Action.KILL;
        };
    }

    private void throwingShutdownHook() {
        op(Kind.HOOK);
        throw new TortureException("shutdown hook told to throw");
    }

    private void blockingShutdownHook() {
        final long t0 = System.nanoTime();
        op(Kind.HOOK);
        LockSupport.parkNanos(1_000_000); // real time: the simulation has ended
        excuse(t0);
    }

    /** Re-enters the closed machine: everything must be refused. */
    private void reenteringShutdownHook() {
        final long t0 = System.nanoTime();
        op(Kind.HOOK);
        try {
            closedMachineRefuses();
        } finally {
            excuse(t0);
        }
    }

    /** On a closed machine: a send, a submission, a call, a job and a mapping change are all refused. */
    private void closedMachineRefuses() {
        final SplittableRandom r = threadRandom.get();
        final int cpu = r.nextInt(cores);
        refusedWhenClosed("send", () -> ic.send(cpu, V1, "after close"));
        refusedWhenClosed("trySend", () -> ic.trySend(cpu, V1, "after close"));
        refusedWhenClosed("Core.submit", () -> machine.core(cpu).submit(() -> fail(Oracle.CLOSED_REFUSES, "a task ran after close")));
        refusedWhenClosed("callAsync", () -> smp.callAsync(cpu, c -> {
            fail(Oracle.CLOSED_REFUSES, "a call ran after close");
            return null;
        }));
        refusedWhenClosed("Scheduler.submit", () -> scheduler.submit(cpu, () -> fail(Oracle.CLOSED_REFUSES, "a job ran after close")));
        final int p = r.nextInt(PROBE_PAGES);
        if (probeLocks[p].compareAndSet(false, true)) {
            try {
                probeChange("a closed machine", p, r);
            } finally {
                probeLocks[p].set(false);
            }
        }
    }

    private void refusedWhenClosed(final String what, final Runnable attempt) {
        check(Oracle.CLOSED_REFUSES);
        try {
            attempt.run();
            fail(Oracle.CLOSED_REFUSES, what + " was accepted by a closed machine");
        } catch (MachineClosedException expected) {
            outcome("closed refused " + what);
        } catch (RuntimeException e) {
            fail(Oracle.CLOSED_REFUSES, what + " on a closed machine threw " + e + " instead of MachineClosedException");
        }
    }
}
