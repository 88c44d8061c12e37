package org.ipi4j.observability;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * JFR event {@value #NAME}: one interrupt sent to one core (a multicast records one per target).
 * Disabled by default; {@code ipi4j.jfc} in this package enables it. When no recording enables it,
 * {@link #emit} allocates nothing and costs one check.
 *
 * <p>Thread-safety: {@link #emit} may be called from any thread; each call uses its own event.
 */
@Name(InterruptSentEvent.NAME)
@Label("Interrupt Sent")
@Category("ipi4j")
@Description("An IPI sent to one core: whether it raised a new pending bit or coalesced with one, and whether "
    + "it had to unpark the target")
@Enabled(false)
@StackTrace(false)
public final class InterruptSentEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.InterruptSent";

    @Label("Source Core")
    @Description("The sending core, or -1 for a thread that is not a core of the machine")
    int source;

    @Label("Target Core")
    int target;

    @Label("Vector")
    int vector;

    @Label("Coalesced")
    @Description("The vector was already pending on the target: no new pending bit and no wake-up")
    boolean coalesced;

    @Label("Woke")
    @Description("The target was parked and this send unparked it")
    boolean woke;

    /**
     * Asked only {@code isEnabled()}, which reads the event type's state, not the instance's: so
     * the check allocates nothing whether or not the JIT has compiled the caller.
     */
    private static final InterruptSentEvent PROBE = new InterruptSentEvent();

    InterruptSentEvent() {
    }

    /**
     * Records a send if a recording enables this event.
     *
     * @param source the sending core, or -1
     * @param target the target core
     * @param vector the vector number
     * @param coalesced true if the vector was already pending
     * @param woke true if the target was unparked
     */
    public static void emit(final int source, final int target, final int vector, final boolean coalesced,
                            final boolean woke) {
        if (!PROBE.isEnabled()) {
            return;
        }
        final InterruptSentEvent e = new InterruptSentEvent();
        if (e.shouldCommit()) {
            e.source = source;
            e.target = target;
            e.vector = vector;
            e.coalesced = coalesced;
            e.woke = woke;
            e.commit();
        }
    }
}
