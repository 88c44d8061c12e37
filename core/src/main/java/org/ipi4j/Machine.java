package org.ipi4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

import org.ipi4j.apic.InterruptController;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.Oops;
import org.ipi4j.interrupts.OopsCount;
import org.ipi4j.interrupts.Topology;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Memory;
import org.ipi4j.observability.CoreStats;
import org.ipi4j.sim.CostModel;
import org.ipi4j.sim.Simulation;
import org.ipi4j.time.Timeline;

/**
 * An emulated SMP machine: {@code n} {@link Core}s, their {@link InterruptController}, and a
 * shared physical {@link Memory}.
 *
 * <pre>{@code
 * try (Machine m = Machine.builder().cores(4).idlePolicy(IdlePolicy.park()).build().start()) {
 *     m.interrupts().register(Vector.of(0x40), irq -> System.out.println(irq.payloads()));
 *     m.interrupts().send(2, Vector.of(0x40), "hello");
 * }
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 * {@link #start()} starts one platform thread per core and returns when every core runs.
 * Sends and submissions made before start are delivered after it. {@link #shutdown(Duration)}
 * (and {@link #close()}) is orderly: new sends and submissions are refused with
 * {@link MachineClosedException}; cores finish what they were given (queued tasks run, pending
 * interrupts are delivered, timers not yet run are cancelled); threads are joined; whatever could
 * not be delivered is returned in the {@link ShutdownReport}. {@link #beforeShutdown} hooks run
 * first, while the cores still take work; {@link #onShutdown} hooks run last. More cores than host CPUs is supported: use a parking
 * {@link IdlePolicy} so idle cores do not compete for the CPUs.
 *
 * <p>Thread-safe. Core threads are daemon threads, so a core stuck in a handler cannot keep the
 * JVM alive; shutdown reports it instead.
 */
public final class Machine implements AutoCloseable {
    /** Distinct kinds of oops told apart; see {@link #distinctOopses()}. */
    public static final int MAX_DISTINCT_OOPSES = 256;

    private final String name;
    private final Core[] cores;
    private final IdlePolicy idlePolicy;
    private final Pinning pinning;
    /** Null when no pinner was given or found: cores run unpinned. */
    private final Pinner pinner;
    private final EnumSet<Paravirt> paravirt;
    /** Run on a core that resumes with a PV TLB flush pending (the MMU's full flush). */
    private final List<IntConsumer> pvFlushHooks = new CopyOnWriteArrayList<>();
    private final FaultPolicy faultPolicy;
    private final InterruptController interrupts;
    private final Memory memory;
    /** The host's time and parking, or the simulation's. */
    private final Timeline timeline;
    /** Null unless the machine is simulated; no other class of this package asks (a core is handed its boundary cost). */
    private final Simulation simulation;
    private final Topology topology;
    private final CostModel costModel;
    private final OopsLog oopses;
    /** What the cores and the controller see of the machine. */
    private final MachineHost host;
    /** Start, the hooks and the order of shutdown. */
    private final MachineLifecycle lifecycle;

    private Machine(final MachineConfig c) {
        this.costModel = costModelOf(c); // first: a refused model leaves the simulation unbound
        this.name = c.name();
        this.idlePolicy = c.idlePolicy();
        this.pinning = c.pinning();
        this.simulation = c.simulation();
        this.timeline = simulation != null ? simulation : Timeline.real();
        this.topology = c.topology() != null ? c.topology()
            : simulation != null || c.costModel() != null ? costModel.topology() : Topology.uniform();
        // A simulated core does not pin: one thread runs at a time, on whatever CPU the host gives it.
        this.pinner = c.pinning() == Pinning.NONE || simulation != null ? null
            : c.pinner() != null ? c.pinner() : Pinner.fromClassPath();
        this.faultPolicy = c.faultPolicy();
        this.oopses = new OopsLog(c.oopsCapacity(), MAX_DISTINCT_OOPSES, timeline::nanoTime, c.oopsListener());
        this.memory = new Memory(c.memoryWords());
        this.paravirt = c.paravirt();
        this.host = new MachineHost(timeline, simulation != null ? simulation::spinWait : () -> { },
            pinner, memory, pvFlushHooks, oopses, faultPolicy);
        this.interrupts = c.interruptController(host, timeline);
        if (simulation != null) {
            simulation.bind(name, c.cores());
        }
        this.cores = new Core[c.cores()];
        for (int i = 0; i < cores.length; i++) {
            cores[i] = new Core(i, pinning, interrupts, host);
        }
        host.bind(interrupts, cores);
        final StallWatch stallWatch = c.stallThreshold() == null || simulation != null ? null
            : new StallWatch(name, cores, Deadlines.saturatedNanos(c.stallThreshold()), c.stallListener(), oopses);
        this.lifecycle = new MachineLifecycle(name, cores, c.threadFactory(), interrupts, oopses, host, stallWatch,
            simulation != null ? simulation::end : () -> { });
    }

    /** {@return a builder with the defaults: 2 cores, adaptive idle, best-effort pinning} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every core and waits until each runs (and has tried to pin itself). The
     * {@link Builder#threadFactory} is called without any lock held, so a shutdown from another
     * thread meanwhile is not held up by it (and the start then starts nothing).
     *
     * @return this
     * @throws IllegalStateException if already started or closed; if the {@link Builder#threadFactory}
     *         did not return a new thread, or returned one thread for two cores (the machine stays
     *         unstarted); if the machine was shut down before all its cores ran; or if a thread the
     *         factory made ended without running the core's body (the machine is then shut down)
     */
    public Machine start() {
        lifecycle.start();
        return this;
    }

    /** {@return the machine's name (thread names are derived from it)} */
    public String name() {
        return name;
    }

    /** {@return number of cores} */
    public int coreCount() {
        return cores.length;
    }

    /**
     * Core {@code id}.
     *
     * @param id the core's id
     * @return the core
     * @throws IllegalArgumentException if there is no such core
     */
    public Core core(final int id) {
        return cores[interrupts.checkCpu(id)];
    }

    /**
     * Checks that every core in {@code cpus} exists.
     *
     * @param cpus the target cores
     * @throws IllegalArgumentException naming the highest core outside the machine
     */
    public void checkCores(final CpuSet cpus) {
        interrupts.checkCpus(cpus);
    }

    /** {@return the core of this machine running the calling thread, or null if the caller is not one} */
    public Core currentCore() {
        return host.currentCore();
    }

    /** {@return all cores, by id} */
    public List<Core> cores() {
        return List.of(cores);
    }

    /** {@return the interrupt controller: register handlers, send IPIs} */
    public InterruptController interrupts() {
        return interrupts;
    }

    /**
     * {@return where this machine's time comes from and how its threads wait: {@link Timeline#real()},
     * or its {@link #simulation()}}
     */
    public Timeline timeline() {
        return timeline;
    }

    /** {@return the simulation this machine runs in, or null for a machine on the host's real cores} */
    public Simulation simulation() {
        return simulation;
    }

    /**
     * The model the machine's choices are made from: the simulation's, the given one, or the
     * defaults. One model per machine, since choices made from one and time charged by another
     * would disagree: a simulated machine given a model other than its simulation's is refused.
     */
    private static CostModel costModelOf(final MachineConfig c) {
        final Simulation sim = c.simulation();
        if (sim != null && c.costModel() != null && !c.costModel().equals(sim.costs())) {
            throw new IllegalArgumentException("costModel (" + c.costModel() + ") differs from the simulation's ("
                + sim.costs() + "): a simulated machine uses its simulation's model; give it to "
                + "Simulation.Builder.costModel instead");
        }
        return sim != null ? sim.costs() : c.costModel() != null ? c.costModel() : CostModel.defaults();
    }

    /**
     * {@return what this machine's steps cost, for the choices made from it: its simulation's model,
     * the builder's {@link Builder#costModel}, or {@link CostModel#defaults()}}
     */
    public CostModel costModel() {
        return costModel;
    }

    /** {@return where cores sit (complexes, sockets): the builder's, the cost model's (simulated, or given), or uniform} */
    public Topology topology() {
        return topology;
    }

    /** {@return the shared physical memory programs load from and store to} */
    public Memory memory() {
        return memory;
    }

    /** {@return the idle policy every core uses} */
    public IdlePolicy idlePolicy() {
        return idlePolicy;
    }

    /** {@return the pinning policy} */
    public Pinning pinning() {
        return pinning;
    }

    /** {@return the pinner cores use under {@link Pinning#BEST_EFFORT}, or null (cores run unpinned)} */
    public Pinner pinner() {
        return pinner;
    }

    /** {@return host CPUs visible to the JVM} */
    public static int hostCpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** {@return true when there are more cores than host CPUs (benchmarks must say so)} */
    public boolean oversubscribed() {
        return cores.length > hostCpus();
    }

    /** {@return counters of every core} */
    public List<CoreStats> stats() {
        final List<CoreStats> out = new ArrayList<>(cores.length);
        for (final Core c : cores) {
            out.add(c.stats());
        }
        return out;
    }

    /**
     * The first failures recorded, oldest first: at most the builder's {@code oopsCapacity}
     * (default 1000). {@link #oopsRecorded()} counts them all, {@link #distinctOopses()} groups them.
     *
     * @return the recorded oopses, oldest first (read-only)
     */
    public List<Oops> oopses() {
        return oopses.first();
    }

    /** {@return how many failures were recorded, including those {@link #oopses()} no longer holds} */
    public long oopsRecorded() {
        return oopses.total();
    }

    /**
     * Every distinct kind of failure (same description, vector, exception class and throwing
     * frame) with its first occurrence and its count, most frequent first. At most
     * {@value #MAX_DISTINCT_OOPSES} kinds are told apart; further new kinds are counted together
     * under the last one kept ("other failures").
     *
     * @return one entry per kind of failure, with its count
     */
    public List<OopsCount> distinctOopses() {
        return oopses.distinct();
    }

    /**
     * Runs {@code hook} on the thread that shuts the machine down, after the cores stopped (or the
     * timeout passed) and what they left was collected, before {@code shutdown} returns. Layers
     * built on the machine use it to fail what can no longer complete (the cross-core calls queued
     * on a stuck core). A hook that throws is recorded as an {@link Oops}. Register before shutdown.
     *
     * @param hook runs once, during shutdown
     */
    public void onShutdown(final Runnable hook) {
        lifecycle.onShutdown(hook);
    }

    /**
     * Runs {@code hook} first when the machine shuts down, on the thread that shuts it down, while
     * the cores still take calls and tasks: a layer that must still reach its cores (closing its
     * per-core state on them) does it here. The hook is given how much of the shutdown's timeout
     * is left, and must not wait longer. Hooks run in reverse order of registration, the last
     * registered first (a layer built on another stops before it); one that throws is recorded as
     * an {@link Oops} and the next one runs. A hook that calls {@link #shutdown} gets an
     * {@link IllegalStateException}.
     *
     * @param hook runs once, at the start of shutdown, given the time left
     * @throws MachineClosedException if the shutdown has begun (the hook would not run)
     */
    public void beforeShutdown(final Consumer<Duration> hook) {
        lifecycle.beforeShutdown(hook);
    }

    /**
     * {@return true if this machine's cores use paravirtual feature {@code feature}}
     *
     * @param feature the feature
     */
    public boolean paravirt(final Paravirt feature) {
        return paravirt.contains(Objects.requireNonNull(feature, "feature"));
    }

    /**
     * Registers what a core runs when it resumes from a preemption with a PV TLB flush pending,
     * before it runs anything else (the MMU registers its full TLB flush). Runs on that core. A
     * hook that throws is recorded as an {@link Oops}; the core goes on.
     *
     * @param flush given the core's id
     */
    public void onPvFlush(final IntConsumer flush) {
        pvFlushHooks.add(Objects.requireNonNull(flush, "flush"));
    }

    /** {@return true once shutdown has begun (sends are refused)} */
    public boolean isClosed() {
        return interrupts.isClosed();
    }

    // ---- shutdown ---------------------------------------------------------------------------

    /**
     * Orderly shutdown, waiting at most {@code timeout} for the cores to finish. Idempotent:
     * a later call returns the first report. A call made while another thread's shutdown runs
     * waits for that one's report within its own {@code timeout}; if the time runs out first, it
     * returns an unclean report whose stuck cores name the shutdown still in progress.
     *
     * @param timeout how long to wait at most
     * @return what was left undelivered, never ran, or is stuck
     * @throws IllegalStateException if called from one of this machine's cores
     */
    public ShutdownReport shutdown(final Duration timeout) {
        return lifecycle.shutdown(timeout);
    }

    /**
     * {@link #shutdown(Duration)} with a 10 second timeout. Throws the report only if this call
     * is the one that shut the machine down: after {@code shutdown(timeout)} (which returned the
     * report) or an earlier {@code close()}, it returns quietly, so try-with-resources around an
     * explicit shutdown does not report twice; {@link #shutdown(Duration)} still returns the report.
     *
     * @throws UncleanShutdownException with the report if it is not clean (the machine is closed all the same)
     */
    @Override
    public void close() {
        lifecycle.close();
    }

    @Override
    public String toString() {
        return "Machine[" + name + ", " + cores.length + " cores, " + idlePolicy + ", " + pinning + "]";
    }

    /**
     * Configures a {@link Machine}: its setters (inherited, each documented with its default)
     * check their value as it is given; {@link #build()} makes the machine. Not thread-safe.
     */
    public static final class Builder extends MachineSettings<Builder> {
        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /** {@return the machine, not yet started} */
        public Machine build() {
            return new Machine(config());
        }
    }
}
