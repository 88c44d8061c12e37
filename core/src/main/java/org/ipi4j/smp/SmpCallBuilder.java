package org.ipi4j.smp;

import java.time.Duration;
import java.util.Objects;

import org.ipi4j.Machine;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;

/**
 * Configures a {@link SmpCall} layer ({@link SmpCall#builder}): each setter checks its value as it is given; {@link #install()}
 * installs it. Not thread-safe.
 */
public final class SmpCallBuilder {
    private final Machine machine;
    private Duration watchdog = Duration.ofSeconds(5);
    private Broadcast broadcast = Broadcast.flat();
    private int capacity;
    private OverflowPolicy whenFull = OverflowPolicy.FAIL;

    SmpCallBuilder(final Machine machine) {
        this.machine = machine;
    }

    /**
     * @param watchdog how long a wait lasts before the IPI is re-sent, and again before it gives up (default 5 s)
     * @return this builder
     */
    public SmpCallBuilder watchdog(final Duration watchdog) {
        Objects.requireNonNull(watchdog, "watchdog");
        if (watchdog.isNegative() || watchdog.isZero()) {
            throw new IllegalArgumentException("watchdog must be positive: " + watchdog);
        }
        this.watchdog = watchdog;
        return this;
    }

    /**
     * @param broadcast default shape of multi-core calls (default flat)
     * @return this builder
     */
    public SmpCallBuilder broadcast(final Broadcast broadcast) {
        this.broadcast = Objects.requireNonNull(broadcast, "broadcast");
        return this;
    }

    /**
     * Bounds each core's unanswered shares of async calls (queued, taken, or running) to
     * {@code capacity}; a call takes a slot on every remote target before anything is queued.
     * When a target is full: {@link OverflowPolicy#FAIL} throws
     * {@link org.ipi4j.interrupts.MailboxFullException} at once, {@link OverflowPolicy#BLOCK}
     * waits for room until the call's deadline (the watchdog period without one). Waited calls
     * take no slot: each caller has one at a time. Default: unbounded.
     *
     * @param capacity at least 1
     * @param policy what a call to a full core does
     * @return this builder
     */
    public SmpCallBuilder queueCapacity(final int capacity, final OverflowPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        if (capacity < 1) {
            throw new IllegalArgumentException("queue capacity must be >= 1, not " + capacity);
        }
        this.capacity = capacity;
        this.whenFull = policy;
        return this;
    }

    /**
     * Installs the layer: registers the {@link Vector#CALL_FUNCTION} handler. Once per machine.
     *
     * @return the installed layer
     * @throws IllegalStateException if the machine already has a call-function handler
     */
    public SmpCall install() {
        final CallBound bound = capacity == 0 ? null : new CallBound(machine.coreCount(), capacity, whenFull);
        final SmpCall smp = new SmpCall(machine, watchdog, broadcast, bound);
        machine.interrupts().register(Vector.CALL_FUNCTION, smp.delivery()::onCallFunction);
        machine.onShutdown(smp.delivery()::failUnanswered);
        return smp;
    }
}
