package org.ipi4j;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.Faults;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.observability.CoreStall;
import org.ipi4j.observability.CoreStats;
import org.ipi4j.sim.CostModel;
import org.ipi4j.sim.Simulation;

/**
 * The settings of a {@link Machine.Builder}: every option, its default and its check, each
 * checked as it is given (a bad value throws at once, naming itself). A separate file so that
 * the machine's own file holds the machine; it knows nothing of {@code Machine} beyond the
 * {@link MachineConfig} it produces ({@code B} is the builder, for chaining, as Netty's
 * {@code AbstractBootstrap} does). Not thread-safe.
 *
 * @param <B> the builder type its setters return
 */
abstract class MachineSettings<B extends MachineSettings<B>> {
    private String name = "ipi4j";
    private int cores = 2;
    private IdlePolicy idlePolicy = IdlePolicy.adaptive();
    private Pinning pinning = Pinning.BEST_EFFORT;
    private int mailboxCapacity = 1024;
    private OverflowPolicy overflowPolicy = OverflowPolicy.FAIL;
    private Duration blockTimeout = Duration.ofSeconds(5);
    private FaultPolicy faultPolicy = FaultPolicy.CONTINUE;
    private int memoryWords = 4096;
    private Consumer<Oops> oopsListener;
    private boolean timeHandlers;
    private int oopsCapacity = 1000;
    private FaultInjector faults;
    private Pinner pinner;
    private ThreadFactory threadFactory;
    private EnumSet<Paravirt> paravirt = EnumSet.allOf(Paravirt.class);
    private DeliveryMode deliveryMode = DeliveryMode.PER_VECTOR;
    private Simulation simulation;
    private Topology topology;
    private CostModel costModel;
    private Duration stallThreshold;
    private Consumer<CoreStall> stallListener;

    /**
     * Runs the machine in {@code simulation}: virtual time, one thread at a time, in the
     * seeded order the simulation chooses, with its cost model (see {@link Simulation}). The
     * machine does not pin its cores; its topology defaults to the cost model's. A simulation
     * serves one machine. Default: none, the host's real cores and time.
     *
     * @param simulation the simulation
     * @return this builder
     */
    public B simulation(final Simulation simulation) {
        this.simulation = Objects.requireNonNull(simulation, "simulation");
        return self();
    }

    /**
     * Where cores sit, for the topology-aware broadcast. Default: the simulation's cost model's
     * topology for a simulated machine, {@link Topology#uniform()} otherwise.
     *
     * @param topology the topology
     * @return this builder
     */
    public B topology(final Topology topology) {
        this.topology = Objects.requireNonNull(topology, "topology");
        return self();
    }

    /**
     * What this machine's steps cost, for the choices made from it ({@code Broadcast.auto()}, the
     * MMU's broadcast-invalidation threshold); also the topology's default. A simulated machine
     * uses its simulation's model: given one too, it must equal that model, or {@link
     * Machine.Builder#build()} refuses. Default: the simulation's, or {@link CostModel#defaults()}.
     *
     * @param costModel the model, for instance one {@link CostModel#read read} from a calibration
     * @return this builder
     */
    public B costModel(final CostModel costModel) {
        this.costModel = Objects.requireNonNull(costModel, "costModel");
        return self();
    }

    /**
     * Machine name, used for thread names.
     *
     * @param name the name
     * @return this builder
     */
    public B name(final String name) {
        this.name = Objects.requireNonNull(name, "name");
        return self();
    }

    /**
     * Number of cores, 1 to 1024.
     *
     * @param cores the number of cores
     * @return this builder
     */
    public B cores(final int cores) {
        if (cores < 1 || cores > 1024) {
            throw new IllegalArgumentException("cores must be 1-1024, not " + cores);
        }
        this.cores = cores;
        return self();
    }

    /**
     * How an idle core waits for work: spin, poll, park or adaptive. Default {@link IdlePolicy#adaptive()}.
     *
     * @param idlePolicy how an idle core waits for work
     * @return this builder
     */
    public B idlePolicy(final IdlePolicy idlePolicy) {
        this.idlePolicy = Objects.requireNonNull(idlePolicy, "idlePolicy");
        return self();
    }

    /**
     * Whether cores pin themselves to host CPUs. Default {@link Pinning#BEST_EFFORT}.
     *
     * @param pinning whether cores pin themselves to host CPUs
     * @return this builder
     */
    public B pinning(final Pinning pinning) {
        this.pinning = Objects.requireNonNull(pinning, "pinning");
        return self();
    }

    /**
     * Payloads a core's mailbox holds per vector (rounded up to a power of two, at least 2).
     *
     * @param capacity the capacity
     * @return this builder
     */
    public B mailboxCapacity(final int capacity) {
        if (capacity < 2 || capacity > (1 << 24)) {
            throw new IllegalArgumentException("mailbox capacity must be 2 to 2^24, not " + capacity);
        }
        this.mailboxCapacity = capacity;
        return self();
    }

    /**
     * What a send does when a mailbox is full. Default {@link OverflowPolicy#FAIL}.
     *
     * @param policy the policy
     * @return this builder
     */
    public B overflowPolicy(final OverflowPolicy policy) {
        this.overflowPolicy = Objects.requireNonNull(policy, "policy");
        return self();
    }

    /**
     * How long a {@link OverflowPolicy#BLOCK} send waits for room. Default 5 s.
     *
     * @param timeout how long to wait at most
     * @return this builder
     */
    public B blockTimeout(final Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("blockTimeout must not be negative, not " + timeout);
        }
        this.blockTimeout = timeout;
        return self();
    }

    /**
     * What happens after a handler throws. Default {@link FaultPolicy#CONTINUE}.
     *
     * @param policy the policy
     * @return this builder
     */
    public B faultPolicy(final FaultPolicy policy) {
        this.faultPolicy = Objects.requireNonNull(policy, "policy");
        return self();
    }

    /**
     * Size of physical memory in 64-bit words. Default 4096.
     *
     * @param words the size in 64-bit words
     * @return this builder
     */
    public B memoryWords(final int words) {
        if (words < 0) {
            throw new IllegalArgumentException("memoryWords must not be negative, not " + words);
        }
        this.memoryWords = words;
        return self();
    }

    /**
     * Measure the time each core spends in handlers ({@link CoreStats#handlerNanos()}) and with
     * interrupts disabled by code ({@link CoreStats#maxIrqOffNanos()}, and how long in a core's
     * {@link Core#describe()}). Off by default: it costs two clock reads per interrupt on the
     * delivery path and one at every disable and re-enable of interrupts.
     *
     * @param on true to turn it on
     * @return this builder
     */
    public B timeHandlers(final boolean on) {
        this.timeHandlers = on;
        return self();
    }

    /**
     * How many failures {@link Machine#oopses()} keeps (the first ones), 1 to 2^20. Default
     * 1000. Every failure is still counted, by kind, in {@link Machine#distinctOopses()}.
     *
     * @param capacity the capacity
     * @return this builder
     */
    public B oopsCapacity(final int capacity) {
        if (capacity < 1 || capacity > (1 << 20)) {
            throw new IllegalArgumentException("oopsCapacity must be 1 to 2^20, not " + capacity);
        }
        this.oopsCapacity = capacity;
        return self();
    }

    /**
     * The {@link Pinner} to use under {@link Pinning#BEST_EFFORT} instead of the first one
     * found on the class path.
     *
     * @param pinner pins the calling thread to a host CPU
     * @return this builder
     */
    public B pinner(final Pinner pinner) {
        this.pinner = Objects.requireNonNull(pinner, "pinner");
        return self();
    }

    /**
     * Injects faults into the delivery path, for tests: freeze a core, delay deliveries, lose
     * wake-ups, make handlers throw (see {@link Faults}). Off by default; without it the hooks
     * cost one null check each.
     *
     * @param injector the faults to inject
     * @return this builder
     */
    public B faults(final FaultInjector injector) {
        this.faults = Objects.requireNonNull(injector, "injector");
        return self();
    }

    /**
     * Makes the thread of each core (thread names, priorities, thread groups, an agent's
     * bookkeeping). The machine hands it the {@code Runnable} that runs one core; it must
     * return a new, unstarted platform thread for it ({@link Machine#start()} throws
     * {@link IllegalStateException} for null or a started thread). The factory's thread is used as
     * given: its name and daemon flag are the factory's to set. Default: daemon platform threads
     * named {@code <machine>-core-<id>}, so that a stuck core does not keep the JVM alive.
     *
     * <p>It makes the cores' threads only. The machine's helpers are daemon platform threads of the
     * library's own, never from this factory (they are not cores and must not be taken for one):
     * the stall watch, {@code <machine>-stall-watch}, only with {@link #stallThreshold};
     * {@link org.ipi4j.smp.SmpCall}'s deadline timer, {@code ipi4j-<machine>-call-deadlines},
     * while an asynchronous call with a deadline is pending, ending after a second without one; and
     * for a simulated machine, the simulation's real-time watchdog, {@code ipi4j-sim-watchdog-<machine>}.
     *
     * @param factory makes each core's thread
     * @return this builder
     */
    public B threadFactory(final ThreadFactory factory) {
        this.threadFactory = Objects.requireNonNull(factory, "factory");
        return self();
    }

    /**
     * The paravirtual features the cores use (default: all of {@link Paravirt}); none for a
     * machine that behaves like bare metal when its cores are preempted.
     *
     * @param features the features, possibly none
     * @return this builder
     */
    public B paravirt(final Paravirt... features) {
        Objects.requireNonNull(features, "features");
        final EnumSet<Paravirt> set = EnumSet.noneOf(Paravirt.class);
        for (final Paravirt f : features) {
            set.add(Objects.requireNonNull(f, "features"));
        }
        this.paravirt = set;
        return self();
    }

    /**
     * How a send decides to wake its target: {@link DeliveryMode#PER_VECTOR} (default) or
     * {@link DeliveryMode#POSTED} (posted interrupts: one ON bit for every vector, SN while a
     * core is preempted).
     *
     * @param mode the mode
     * @return this builder
     */
    public B deliveryMode(final DeliveryMode mode) {
        this.deliveryMode = Objects.requireNonNull(mode, "mode");
        return self();
    }

    /**
     * Called on the failing core for every {@link Oops}, after it is recorded.
     *
     * @param listener called for every oops
     * @return this builder
     */
    public B onOops(final Consumer<Oops> listener) {
        this.oopsListener = Objects.requireNonNull(listener, "listener");
        return self();
    }

    /**
     * Watch for stalls: a running core that reaches no instruction boundary (no
     * {@link Core#checkpoint()}, no program instruction, no round of its run loop or of a wait)
     * for longer than {@code threshold} is reported once per stall, with its stack: to the
     * {@link #onStall} listener, as the JFR event {@code org.ipi4j.CoreStalled}, and in
     * {@link CoreStats#stalls()}. An idle, parked or preempted core is not stalled. A watch thread
     * samples each core's boundary count a few times per threshold; the cores read no clock for
     * it. Off by default (no thread, nothing sampled). Real time only: a simulated machine does
     * not watch (its cores run one at a time, in virtual time).
     *
     * @param threshold how long without a boundary is a stall, at least 1 ms
     * @return this builder
     */
    public B stallThreshold(final Duration threshold) {
        Objects.requireNonNull(threshold, "threshold");
        if (threshold.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("stallThreshold must be at least 1 ms, not " + threshold);
        }
        this.stallThreshold = threshold;
        return self();
    }

    /**
     * Called on the stall watch's thread for every stall reported (see {@link #stallThreshold},
     * which must be set for any to be). It must return soon: the watch samples no core while it
     * runs. One that throws is recorded as an {@link Oops}.
     *
     * @param listener called once per stall
     * @return this builder
     */
    public B onStall(final Consumer<CoreStall> listener) {
        this.stallListener = Objects.requireNonNull(listener, "listener");
        return self();
    }

    /** {@return this, as the builder type} */
    abstract B self();

    /** {@return what the builder was told, as one record} */
    final MachineConfig config() {
        return new MachineConfig(name, cores, idlePolicy, pinning, mailboxCapacity, overflowPolicy, blockTimeout,
            faultPolicy, memoryWords, oopsListener, timeHandlers, oopsCapacity, faults, pinner, threadFactory, paravirt,
            deliveryMode, simulation, topology, costModel, stallThreshold, stallListener);
    }
}
