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
 * JFR event {@value #NAME}: one TLB shootdown, from the initiator's call to the last target's
 * acknowledgement (the event's duration). Disabled by default; {@code ipi4j.jfc} in this package
 * enables it. When no recording enables it, {@link #startIfEnabled()} returns null and allocates
 * nothing.
 *
 * <p>Thread-safety: an event returned by {@link #startIfEnabled()} belongs to the initiator.
 */
@Name(ShootdownEvent.NAME)
@Label("TLB Shootdown")
@Category("ipi4j")
@Description("A TLB shootdown: the address space, the pages, the cores that flushed, whether they flushed the "
    + "whole space, and the window in which a stale translation could still be used")
@Enabled(false)
@StackTrace(false)
public final class ShootdownEvent extends Event {
    /** The event's name in recordings. */
    public static final String NAME = "org.ipi4j.Shootdown";

    @Label("ASID")
    @Description("The address-space id")
    long asid;

    @Label("Pages")
    int pages;

    @Label("Remote Targets")
    @Description("Cores other than the initiator that flushed")
    int targets;

    @Label("Full Flush")
    @Description("More pages than the ceiling: targets flushed the whole space instead of page by page")
    boolean fullFlush;

    @Label("Window")
    @Description("From the first page-table change to the last target's invalidation")
    @Timespan(Timespan.NANOSECONDS)
    long window;

    /**
     * Asked only {@code isEnabled()}, which reads the event type's state, not the instance's: so
     * the check allocates nothing whether or not the JIT has compiled the caller.
     */
    private static final ShootdownEvent PROBE = new ShootdownEvent();

    ShootdownEvent() {
    }

    /** {@return a started event if a recording enables this event, else null (nothing allocated)} */
    public static ShootdownEvent startIfEnabled() {
        if (!PROBE.isEnabled()) {
            return null;
        }
        final ShootdownEvent e = new ShootdownEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the event and commits it.
     *
     * @param asid the address-space id
     * @param pages the pages shot down
     * @param targets remote cores that flushed
     * @param fullFlush true if they flushed the whole space
     * @param window nanoseconds from the first change to the last invalidation
     */
    public void finish(final long asid, final int pages, final int targets, final boolean fullFlush, final long window) {
        end();
        if (shouldCommit()) {
            this.asid = asid;
            this.pages = pages;
            this.targets = targets;
            this.fullFlush = fullFlush;
            this.window = window;
            commit();
        }
    }
}
