package org.ipi4j.apic;

import java.util.Arrays;
import java.util.function.IntConsumer;

import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.jctools.util.PaddedAtomicLong;

/**
 * One vector to many cores, and the VM exits the machine's sends cost: the loops behind
 * {@link InterruptController}'s multicast, shorthands and doorbells, lowest core first, each
 * target one {@link CpuPort#deliver}. When a mailbox stays full, every other target still gets the
 * payload and the exception names the ones that did not; when the machine closes midway, the
 * exception names the ones that did.
 *
 * <p>Thread-safety: any thread.
 */
final class Multicast {
    private final String name;
    private final CpuPort[] ports;
    private final ControllerConfig config;
    private final PaddedAtomicLong vmExits = new PaddedAtomicLong(); // every send adds: a line of its own

    Multicast(final ControllerConfig config, final CpuPort[] ports) {
        this.name = config.name();
        this.config = config;
        this.ports = ports;
    }

    /** VM exits for a send to {@code targets} cores: one each, or one hypercall per batch with PV send-IPI. */
    void countExits(final int targets) {
        vmExits.getAndAdd(config.pvSendIpi()
            ? (targets + InterruptController.PV_SEND_IPI_BATCH - 1) / InterruptController.PV_SEND_IPI_BATCH : targets);
    }

    long vmExits() {
        return vmExits.get();
    }

    /**
     * Sends to every core of {@code cpus} but {@code skip} (-1: none), which the caller validated.
     *
     * @throws MailboxFullException naming the targets whose mailbox stayed full
     * @throws MachineClosedException if the machine closed, naming the targets served before
     */
    void send(final CpuSet cpus, final int skip, final Vector vector, final Object payload, final int self) {
        final int[] failed = new int[ports.length];
        int nFailed = 0;
        int n = 0;
        for (int cpu = cpus.next(0); cpu >= 0; cpu = cpus.next(cpu + 1)) {
            if (cpu == skip) {
                continue;
            }
            n++;
            try {
                if (!ports[cpu].deliver(vector.number(), payload, self, true)) {
                    failed[nFailed++] = cpu;
                }
            } catch (MachineClosedException closed) {
                // The machine closed in the middle (a BLOCK wait for room, say): the targets before
                // this one have the payload. Say which, instead of "nothing was queued".
                countExits(n);
                CpuSet delivered = CpuSet.empty(); // the failure path only: allocating is fine here
                for (int c = cpus.next(0); c >= 0 && c < cpu; c = cpus.next(c + 1)) {
                    if (c != skip && !contains(failed, nFailed, c)) {
                        delivered = delivered.with(c);
                    }
                }
                if (delivered.isEmpty()) {
                    throw closed;
                }
                throw new MachineClosedException("machine " + name + " closed during a multicast of " + vector
                    + ": cores " + delivered + " got the payload, the others did not", delivered);
            }
        }
        countExits(n);
        if (nFailed > 0) {
            throw full(CpuSet.of(Arrays.copyOf(failed, nFailed)), vector, self);
        }
    }

    /** Sends to {@code shorthand}'s cores, resolved against core {@code self} (-1: not a core). */
    void send(final Shorthand shorthand, final Vector vector, final Object payload, final int self) {
        switch (shorthand) {
            case SELF -> {
                if (self < 0) {
                    throw new IllegalStateException("Shorthand.SELF used from " + Thread.currentThread().getName()
                        + ", which is not a core of machine " + name);
                }
                countExits(1); // a unicast to ourselves
                if (!ports[self].deliver(vector.number(), payload, self, true)) {
                    throw full(CpuSet.of(self), vector, self);
                }
            }
            case ALL -> send(CpuSet.firstN(ports.length), -1, vector, payload, self);
            case ALL_BUT_SELF -> send(CpuSet.firstN(ports.length), self, vector, payload, self);
            default -> throw new IllegalArgumentException(shorthand.toString());
        }
    }

    /**
     * Rings {@code v} without payload on the first {@code count} of {@code cpus}, which the caller
     * validated; a core the closing machine refuses goes to {@code unreachable}, the others still
     * get theirs. One batch of VM exits. Allocates nothing.
     */
    void doorbells(final int[] cpus, final int count, final int v, final int self, final IntConsumer unreachable) {
        for (int i = 0; i < count; i++) {
            try {
                ports[cpus[i]].deliver(v, null, self, false); // a doorbell always fits
            } catch (MachineClosedException e) {
                unreachable.accept(cpus[i]);
            }
        }
        countExits(count);
    }

    /**
     * {@return the exception for payloads to {@code failed} that did not fit, sent by core
     * {@code self} (-1: not a core)}: under BLOCK it says how long the send waited, and that a
     * core's send to itself did not wait (CpuPort's enqueue never blocks on its own mailbox)
     */
    MailboxFullException full(final CpuSet failed, final Vector vector, final int self) {
        final StringBuilder why = new StringBuilder().append(config.overflowPolicy()).append(" policy, capacity ")
            .append(config.mailboxCapacity());
        if (config.overflowPolicy() == OverflowPolicy.BLOCK) {
            if (failed.without(self).size() > 0) {
                final long wait = config.blockTimeoutNanos();
                why.append(", still full after waiting ")
                    .append(wait % 1_000_000 == 0 ? wait / 1_000_000 + " ms" : wait / 1_000 + " us").append(" (blockTimeout)");
            }
            if (self >= 0 && failed.contains(self)) {
                why.append("; core ").append(self).append("'s send to itself does not wait");
            }
        }
        return new MailboxFullException(failed, vector, why.toString());
    }

    private static boolean contains(final int[] cpus, final int n, final int cpu) {
        for (int i = 0; i < n; i++) {
            if (cpus[i] == cpu) {
                return true;
            }
        }
        return false;
    }
}
