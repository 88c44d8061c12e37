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
 * JFR event {@value #NAME}: the stall watch found a core that reached no instruction boundary for
 * longer than the machine's stall threshold (one event per stall; see {@link CoreStall}). The
 * event's own stack would be the watch's, so it carries none; the core's stack is a field.
 * Disabled by default; {@code ipi4j.jfc} in this package enables it.
 *
 * <p>Thread-safety: emitted by the stall watch's thread only.
 */
@Name(CoreStalledEvent.NAME)
@Label("Core Stalled")
@Category("ipi4j")
@Description("A running core reached no instruction boundary (checkpoint) for longer than the stall threshold")
@Enabled(false)
@StackTrace(false)
public final class CoreStalledEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.CoreStalled";

    @Label("Core")
    int core;

    @Label("Stalled For")
    @Timespan(Timespan.NANOSECONDS)
    long stalled;

    @Label("Description")
    String description;

    @Label("Core Stack")
    @Description("The stalled core's stack, innermost frame first")
    String stack;

    CoreStalledEvent() {
    }

    /**
     * Records {@code stall} if a recording enables this event. The stall watch's thread only.
     *
     * @param stall the stall
     */
    public static void emit(final CoreStall stall) {
        final CoreStalledEvent e = new CoreStalledEvent();
        if (e.isEnabled()) {
            e.core = stall.cpu();
            e.stalled = stall.stalledNanos();
            e.description = stall.description();
            final StringBuilder sb = new StringBuilder();
            for (final StackTraceElement f : stall.stack()) {
                sb.append(f).append('\n');
            }
            e.stack = sb.toString();
            e.commit();
        }
    }
}
