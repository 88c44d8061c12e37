package org.ipi4j.apic;

import java.util.Objects;

import org.ipi4j.api.InternalApi;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.DeliveryMode;
import org.ipi4j.interrupts.OverflowPolicy;

/**
 * How an {@link InterruptController} and its ports are built; the machine makes one with
 * {@link #builder(String, int)}. Immutable, so thread-safe.
 *
 * @param name              the machine's name, for messages
 * @param cores             the number of cores, at least 1
 * @param idlePolicy        how an idle core waits for work
 * @param mailboxCapacity   payloads each mailbox holds per vector
 * @param overflowPolicy    what a send does when a mailbox is full
 * @param blockTimeoutNanos how long a {@link OverflowPolicy#BLOCK} send waits for room
 * @param timeHandlers      measure time in handlers and with interrupts disabled (clock reads at
 *                          every interrupt entry and every disable/re-enable; see {@link CpuContext#maxInterruptsOffNanos()})
 * @param faults            faults a test injects, or null (none)
 * @param deliveryMode      how a send decides to notify its target
 * @param pvSendIpi         count VM exits as paravirtual send-IPI does: one hypercall per batch of
 *                          up to {@link InterruptController#PV_SEND_IPI_BATCH} targets
 */
@InternalApi
public record ControllerConfig(String name, int cores, IdlePolicy idlePolicy, int mailboxCapacity,
                               OverflowPolicy overflowPolicy, long blockTimeoutNanos, boolean timeHandlers,
                               FaultInjector faults, DeliveryMode deliveryMode, boolean pvSendIpi) {
    /**
     * Checks what the controller cannot work without.
     *
     * @param name              the machine's name, for messages
     * @param cores             the number of cores, at least 1
     * @param idlePolicy        how an idle core waits for work
     * @param mailboxCapacity   payloads each mailbox holds per vector
     * @param overflowPolicy    what a send does when a mailbox is full
     * @param blockTimeoutNanos how long a {@link OverflowPolicy#BLOCK} send waits for room
     * @param timeHandlers      measure time in handlers and with interrupts disabled (clock reads at
     *                          every interrupt entry and every disable/re-enable; see {@link CpuContext#maxInterruptsOffNanos()})
     * @param faults            faults a test injects, or null (none)
     * @param deliveryMode      how a send decides to notify its target
     * @param pvSendIpi         count VM exits as paravirtual send-IPI does: one hypercall per batch of
     *                          up to {@link InterruptController#PV_SEND_IPI_BATCH} targets
     */
    public ControllerConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(idlePolicy, "idlePolicy");
        Objects.requireNonNull(overflowPolicy, "overflowPolicy");
        Objects.requireNonNull(deliveryMode, "deliveryMode");
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be at least 1, not " + cores);
        }
    }

    /**
     * {@return a builder for {@code cores} cores with {@code Machine.Builder}'s defaults: adaptive
     * idle, 1024 payloads per mailbox, {@link OverflowPolicy#FAIL}, 5 s block timeout, no timing,
     * no faults, {@link DeliveryMode#PER_VECTOR}, no PV send-IPI}
     *
     * @param name the machine's name
     * @param cores the number of cores
     */
    public static Builder builder(final String name, final int cores) {
        return new Builder(name, cores);
    }

    /** Builds a {@link ControllerConfig}. Not thread-safe. */
    public static final class Builder {
        private final String name;
        private final int cores;
        private IdlePolicy idlePolicy = IdlePolicy.adaptive();
        private int mailboxCapacity = 1024;
        private OverflowPolicy overflowPolicy = OverflowPolicy.FAIL;
        private long blockTimeoutNanos = 5_000_000_000L;
        private boolean timeHandlers;
        private FaultInjector faults;
        private DeliveryMode deliveryMode = DeliveryMode.PER_VECTOR;
        private boolean pvSendIpi;

        private Builder(final String name, final int cores) {
            this.name = name;
            this.cores = cores;
        }

        /**
         * How an idle core waits for work.
         *
         * @param policy the idle policy
         * @return this builder
         */
        public Builder idlePolicy(final IdlePolicy policy) {
            this.idlePolicy = policy;
            return this;
        }

        /**
         * Each mailbox's size, and what a send does when one is full.
         *
         * @param capacity payloads each mailbox holds per vector
         * @param overflow what a send does when a mailbox is full
         * @param blockTimeoutNanos how long a {@link OverflowPolicy#BLOCK} send waits for room
         * @return this builder
         */
        public Builder mailboxes(final int capacity, final OverflowPolicy overflow, final long blockTimeoutNanos) {
            this.mailboxCapacity = capacity;
            this.overflowPolicy = overflow;
            this.blockTimeoutNanos = blockTimeoutNanos;
            return this;
        }

        /**
         * Measure time in handlers and with interrupts disabled (see {@link CpuContext#maxInterruptsOffNanos()}).
         *
         * @param on true to measure
         * @return this builder
         */
        public Builder timeHandlers(final boolean on) {
            this.timeHandlers = on;
            return this;
        }

        /**
         * Faults a test injects into the delivery path.
         *
         * @param injector the faults, or null for none
         * @return this builder
         */
        public Builder faults(final FaultInjector injector) {
            this.faults = injector;
            return this;
        }

        /**
         * How a send decides to notify its target.
         *
         * @param mode the delivery mode
         * @return this builder
         */
        public Builder deliveryMode(final DeliveryMode mode) {
            this.deliveryMode = mode;
            return this;
        }

        /**
         * Count VM exits as paravirtual send-IPI does (one hypercall per batch of targets).
         *
         * @param on true for PV send-IPI
         * @return this builder
         */
        public Builder pvSendIpi(final boolean on) {
            this.pvSendIpi = on;
            return this;
        }

        /** {@return the configuration; checked here (a null policy, fewer than one core)} */
        public ControllerConfig build() {
            return new ControllerConfig(name, cores, idlePolicy, mailboxCapacity, overflowPolicy, blockTimeoutNanos,
                timeHandlers, faults, deliveryMode, pvSendIpi);
        }
    }
}
