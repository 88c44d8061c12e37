package org.ipi4j.observability;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@value #NAME}: one cross-core call, from the call to its last acknowledgement (the
 * event's duration). Disabled by default; {@code ipi4j.jfc} in this package enables it. When no
 * recording enables it, {@link #startIfEnabled(int)} returns null and allocates nothing.
 *
 * <p>Thread-safety: {@link #finish} is called once, by whoever completes the call (the waiting
 * caller, or the target whose acknowledgement was the last).
 */
@Name(CrossCallEvent.NAME)
@Label("Cross-Core Call")
@Category("ipi4j")
@Description("A cross-core function call (smp_call_function): its targets, broadcast shape and the watchdog's "
    + "re-sends; the duration runs from the call to the last acknowledgement")
@Enabled(false)
@StackTrace(false)
public final class CrossCallEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.CrossCall";

    @Label("Caller Core")
    @Description("The calling core, or -1 for a thread that is not a core of the machine")
    int caller;

    @Label("Targets")
    @Description("The cores called, as a set such as {0, 2-3}")
    String targets;

    @Label("Target Count")
    int targetCount;

    @Label("Broadcast Shape")
    String shape;

    @Label("Waited")
    @Description("True for a call whose caller waited; false for one that returned a future")
    boolean waited;

    @Label("Re-sends")
    @Description("IPIs the watchdog sent again because a target had not answered")
    int resends;

    @Label("Failed")
    boolean failed;

    /**
     * Asked only {@code isEnabled()}, which reads the event type's state, not the instance's: so
     * the check allocates nothing whether or not the JIT has compiled the caller.
     */
    private static final CrossCallEvent PROBE = new CrossCallEvent();

    CrossCallEvent() {
    }

    /**
     * {@return a started event if a recording enables this event, else null (nothing allocated)}
     *
     * @param caller the calling core, or -1 for a thread that is not a core
     */
    public static CrossCallEvent startIfEnabled(final int caller) {
        if (!PROBE.isEnabled()) {
            return null;
        }
        final CrossCallEvent e = new CrossCallEvent();
        e.caller = caller;
        e.begin();
        return e;
    }

    /**
     * Ends the event and commits it.
     *
     * @param targets the cores called
     * @param targetCount how many
     * @param shape the broadcast shape
     * @param waited true if the caller waited
     * @param resends IPIs re-sent by the watchdog
     * @param failed true if a target threw or could not be reached
     */
    public void finish(final Object targets, final int targetCount, final Object shape, final boolean waited,
                       final int resends, final boolean failed) {
        end();
        if (shouldCommit()) {
            this.targets = String.valueOf(targets);
            this.targetCount = targetCount;
            this.shape = String.valueOf(shape);
            this.waited = waited;
            this.resends = resends;
            this.failed = failed;
            commit();
        }
    }
}
