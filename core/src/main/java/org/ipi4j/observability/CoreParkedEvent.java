package org.ipi4j.observability;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@value #NAME}: a core parked, from the park to its wake-up (the event's duration).
 * Polling is not recorded: only the parking path, which is slow anyway, pays for the event.
 * Disabled by default; {@code ipi4j.jfc} in this package enables it.
 *
 * <p>Thread-safety: an event returned by {@link #startIfEnabled()} belongs to the parking core.
 */
@Name(CoreParkedEvent.NAME)
@Label("Core Parked")
@Category("ipi4j")
@Description("An idle core parked until a sender (or its deadline) woke it")
@Enabled(false)
@StackTrace(false)
public final class CoreParkedEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.CoreParked";

    @Label("Core")
    int core;

    @Label("Timed")
    @Description("True if the park had a deadline (a core waiting for a call), false for the idle loop's park")
    boolean timed;

    /**
     * Asked only {@code isEnabled()}, which reads the event type's state, not the instance's: so
     * the check allocates nothing whether or not the JIT has compiled the caller.
     */
    private static final CoreParkedEvent PROBE = new CoreParkedEvent();

    CoreParkedEvent() {
    }

    /** {@return a started event if a recording enables this event, else null (nothing allocated)} */
    public static CoreParkedEvent startIfEnabled() {
        if (!PROBE.isEnabled()) {
            return null;
        }
        final CoreParkedEvent e = new CoreParkedEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the event after the wake-up and commits it.
     *
     * @param core the core that parked
     * @param timed true if the park had a deadline
     */
    public void finish(final int core, final boolean timed) {
        end();
        if (shouldCommit()) {
            this.core = core;
            this.timed = timed;
            commit();
        }
    }
}
