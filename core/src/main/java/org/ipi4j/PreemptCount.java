package org.ipi4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One core's preemption-disable depth, like Linux's {@code preempt_count}: nested
 * {@link #disable()} and {@link #enable()} on the core's own thread, read from any thread.
 *
 * <p>Single-writer: only the core's thread changes it, with opaque stores; {@link #disabled()}
 * reads it with an opaque load from any thread: a coherent, recent value, with no order with
 * anything else implied. The one reader that acts on it (a preemption point) runs on the core
 * itself, where it reads its own last write.
 */
final class PreemptCount {
    private static final VarHandle DEPTH;

    static {
        try {
            DEPTH = MethodHandles.lookup().findVarHandle(PreemptCount.class, "depth", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private int depth;

    /** Disables preemption once more. Owner only. */
    void disable() {
        DEPTH.setOpaque(this, depth + 1);
    }

    /** {@return false, changing nothing, if preemption was not disabled; else undoes one {@link #disable()}} Owner only. */
    boolean enable() {
        if (depth == 0) {
            return false;
        }
        DEPTH.setOpaque(this, depth - 1);
        return true;
    }

    /** Enables preemption, however deep it was disabled. Owner only: a task's end repairs it so. */
    void clear() {
        DEPTH.setOpaque(this, 0);
    }

    /** {@return true while preemption is disabled (a recent value from other threads)} Any thread. */
    boolean disabled() {
        return (int) DEPTH.getOpaque(this) > 0;
    }
}
