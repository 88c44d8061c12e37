package org.ipi4j.smp;

import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.MachineClosedException;
import org.ipi4j.interrupts.MailboxFullException;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.time.Timeline;

/**
 * Room for calls on each core, and for the calls of a {@link ServiceGroup}: what a caller takes
 * before anything is queued, so that a full queue or a full group refuses a call whole.
 *
 * <h2>Per-core capacity</h2>
 * Each core holds at most {@code capacity} unanswered shares of calls (queued, held, or running).
 * The caller takes one slot on every remote target before the first share is queued (a serial
 * or tree broadcast's later shares are queued by targets, in interrupt context, where nobody may
 * wait); the party that answers a share gives its slot back, just before the answer
 * ({@link Call#acknowledge}), so a share answered by a deadline, a cancel or a shutdown frees its
 * slot too. A caller that cannot have every slot gives back those it took.
 *
 * <h2>Waiting for room</h2>
 * Under {@link OverflowPolicy#BLOCK} the caller polls every {@value #POLL_NANOS} ns until room
 * frees, its deadline passes, or the machine closes; a core keeps taking its own interrupts while
 * it waits ({@link Core#waitUntil}), so two cores flooding each other drain each other. A core in
 * a handler or with interrupts off fails at once, as it may be what the target waits for.
 * Polling keeps the answer path free of any wake-up: room is rare to lack.
 *
 * <p>Thread-safe; allocation-free unless a call is refused.
 */
final class CallBound {
    /** How often a caller waiting for room looks again. */
    private static final long POLL_NANOS = 20_000;
    private static final BooleanSupplier NOTHING = () -> false;

    private final int capacity;
    private final OverflowPolicy policy;
    private final Semaphore[] slots;

    CallBound(final int cores, final int capacity, final OverflowPolicy policy) {
        this.capacity = capacity;
        this.policy = policy;
        this.slots = new Semaphore[cores];
        for (int i = 0; i < cores; i++) {
            slots[i] = new Semaphore(capacity);
        }
    }

    int capacity() {
        return capacity;
    }

    OverflowPolicy policy() {
        return policy;
    }

    /** {@return unanswered shares on {@code cpu} that hold a slot (a recent value)} */
    int queued(final int cpu) {
        return capacity - slots[cpu].availablePermits();
    }

    /**
     * Takes one slot on each remote target of {@code call}, or none.
     *
     * @throws MailboxFullException   if a target stays full (at once, or at {@code deadline})
     * @throws MachineClosedException if the machine closed while the caller waited
     */
    void reserve(final Machine machine, final Call call, final Core self, final long deadline) {
        for (int i = 0; i < call.remoteCount; i++) {
            final int cpu = call.targets[i];
            final boolean took;
            try {
                took = take(machine, slots[cpu], policy, self, deadline);
            } catch (RuntimeException e) { // the machine closed while we waited: give back what we took
                releaseFirst(call, i);
                throw e;
            }
            if (!took) {
                releaseFirst(call, i);
                throw new MailboxFullException(CpuSet.of(cpu), Vector.CALL_FUNCTION, "core " + cpu + " holds its capacity of "
                    + capacity + " unanswered cross-core calls" + (policy == OverflowPolicy.BLOCK ? " until the call's deadline" : ""));
            }
        }
    }

    /** Gives back the slots of the first {@code n} remote targets of {@code call}: the call takes all or none. */
    private void releaseFirst(final Call call, final int n) {
        for (int j = 0; j < n; j++) {
            release(call.targets[j]);
        }
    }

    /** Gives back a slot on {@code cpu}; once per slot taken. */
    void release(final int cpu) {
        slots[cpu].release();
    }

    /**
     * Takes a permit of {@code room}: at once, or under BLOCK by polling until {@code deadline}
     * on the machine's clock.
     *
     * @return false if there was none in time
     * @throws MachineClosedException if the machine closed while waiting
     */
    static boolean take(final Machine machine, final Semaphore room, final OverflowPolicy policy, final Core self,
                        final long deadline) {
        if (room.tryAcquire()) {
            return true;
        }
        if (policy == OverflowPolicy.FAIL || (self != null && (self.inServiceVector() >= 0 || !self.interruptsEnabled()))) {
            return false;
        }
        final Timeline timeline = machine.timeline();
        for (;;) {
            if (machine.isClosed()) {
                throw new MachineClosedException("machine " + machine.name() + " closed while a cross-core call waited for room");
            }
            final long now = timeline.nanoTime();
            if (deadline - now <= 0) {
                return room.tryAcquire();
            }
            final long until = now + Math.min(POLL_NANOS, deadline - now);
            if (self != null) {
                self.waitUntil(NOTHING, until); // takes our own interrupts meanwhile
            } else {
                timeline.parkNanos(room, until - now);
            }
            if (room.tryAcquire()) {
                return true;
            }
        }
    }
}
