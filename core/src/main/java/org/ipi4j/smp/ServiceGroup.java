package org.ipi4j.smp;

import java.util.Objects;
import java.util.concurrent.Semaphore;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.interrupts.OverflowPolicy;

/**
 * A bound on the cross-core calls one group of callers has in flight, like Seastar's
 * {@code smp_service_group}: a call made through {@link SmpCall#inGroup} takes one place before
 * anything is queued and gives it back when its last target has answered (an async call), or
 * when its caller returns (a waited one). When the group is full the call does what
 * {@link #whenFull()} says: {@link OverflowPolicy#FAIL} throws
 * {@link org.ipi4j.interrupts.MailboxFullException} at once; {@link OverflowPolicy#BLOCK} backs
 * off (a waiting core keeps taking its own interrupts) until a place frees, the call's deadline
 * passes (then {@code MailboxFullException}) or the machine closes (then
 * {@link org.ipi4j.interrupts.MachineClosedException}); either way nothing was queued. A call
 * that reaches only the caller's own core takes no place (Seastar counts non-local requests
 * only). An async call still running after its deadline holds its place until it returns.
 *
 * <p>Thread-safe; one group may serve several {@link SmpCall} views and machines.
 */
public final class ServiceGroup {
    private final String name;
    private final int maxInFlight;
    private final OverflowPolicy whenFull;
    private final Semaphore places;

    private ServiceGroup(final String name, final int maxInFlight, final OverflowPolicy whenFull) {
        this.name = name;
        this.maxInFlight = maxInFlight;
        this.whenFull = whenFull;
        this.places = new Semaphore(maxInFlight);
    }

    /**
     * A group that lets at most {@code maxInFlight} of its calls be in flight at once.
     *
     * @param name for messages
     * @param maxInFlight at least 1
     * @param whenFull what a call does when the group is full
     * @return the group
     * @throws IllegalArgumentException if {@code maxInFlight < 1}
     */
    public static ServiceGroup of(final String name, final int maxInFlight, final OverflowPolicy whenFull) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(whenFull, "whenFull");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, not " + maxInFlight);
        }
        return new ServiceGroup(name, maxInFlight, whenFull);
    }

    /** {@return the group's name} */
    public String name() {
        return name;
    }

    /** {@return how many of its calls may be in flight at once} */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** {@return what a call does when the group is full} */
    public OverflowPolicy whenFull() {
        return whenFull;
    }

    /** {@return calls of this group in flight now (a recent value)} */
    public int inFlight() {
        return maxInFlight - places.availablePermits();
    }

    /**
     * Takes a place, waiting under BLOCK until {@code deadline} on the machine's clock (see
     * {@link CallBound#take}). {@return false if none freed in time}
     */
    boolean take(final Machine machine, final Core self, final long deadline) {
        return CallBound.take(machine, places, whenFull, self, deadline);
    }

    /** Gives a place back; once per place taken. */
    void release() {
        places.release();
    }

    @Override
    public String toString() {
        return "ServiceGroup[" + name + ", " + inFlight() + "/" + maxInFlight + " in flight, " + whenFull + "]";
    }
}
