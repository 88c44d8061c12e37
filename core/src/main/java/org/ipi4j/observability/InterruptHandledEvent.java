package org.ipi4j.observability;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * JFR event {@value #NAME}: one interrupt entry on a core, from handler entry to return (the
 * event's duration). Disabled by default; {@code ipi4j.jfc} in this package enables it. When no
 * recording enables it, {@link #startIfEnabled()} returns null and allocates nothing.
 *
 * <p>Thread-safety: an event returned by {@link #startIfEnabled()} belongs to the core that
 * started it.
 */
@Name(InterruptHandledEvent.NAME)
@Label("Interrupt Handled")
@Category("ipi4j")
@Description("An interrupt taken by a core: the handler's run (duration), the payloads it got, and how long "
    + "after the send that raised the pending bit the handler was entered")
@Enabled(false)
@StackTrace(false)
public final class InterruptHandledEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.InterruptHandled";

    @Label("Core")
    int core;

    @Label("Vector")
    int vector;

    @Label("Payloads")
    int payloads;

    @Label("Delivery Latency")
    @Description("From the send that raised the pending bit to handler entry; when several senders raced, "
        + "from one of them. 0 if that send was made while this event was off")
    @Timespan(Timespan.NANOSECONDS)
    long deliveryLatency;

    /** {@code System.nanoTime()} at handler entry; transient: not an event field. */
    private transient long enteredAt;

    /**
     * Asked only {@code isEnabled()}, which reads the event type's state, not the instance's: so
     * the check allocates nothing whether or not the JIT has compiled the caller.
     */
    private static final InterruptHandledEvent PROBE = new InterruptHandledEvent();

    InterruptHandledEvent() {
    }

    /** {@return true if a recording enables this event} Allocates nothing. */
    public static boolean isRecorded() {
        return PROBE.isEnabled();
    }

    /** {@return a started event if a recording enables this event, else null (nothing allocated)} */
    public static InterruptHandledEvent startIfEnabled() {
        if (!isRecorded()) {
            return null;
        }
        final InterruptHandledEvent e = new InterruptHandledEvent();
        e.enteredAt = System.nanoTime();
        e.begin();
        return e;
    }

    /**
     * Ends the event and commits it.
     *
     * @param core the core that took the interrupt
     * @param vector the vector number
     * @param payloads how many payloads the handler got
     * @param raisedAt {@code System.nanoTime()} of the send that raised the vector, 0 if unknown
     */
    public void finish(final int core, final int vector, final int payloads, final long raisedAt) {
        end();
        if (shouldCommit()) {
            this.core = core;
            this.vector = vector;
            this.payloads = payloads;
            this.deliveryLatency = raisedAt == 0 ? 0 : Math.max(0, enteredAt - raisedAt);
            commit();
        }
    }
}
