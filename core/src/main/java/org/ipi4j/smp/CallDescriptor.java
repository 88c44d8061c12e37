package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One target's share of a call, as queued on that target: a node of its {@link CallQueue}.
 * Exactly one party acknowledges it: the target that took it from its queue, or the caller
 * that could not reach the target (it never queued it, or took it back, see SmpCall).
 */
abstract class CallDescriptor extends CallQueue.Node {
    private static final VarHandle ACKED;

    static {
        try {
            ACKED = MethodHandles.lookup().findVarHandle(CallDescriptor.class, "acked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** IPI rounds it took to get here; written by whoever queues it, before the push publishes it. */
    int level;
    Throwable failure;
    @SuppressWarnings("unused")
    private int acked;

    abstract Call call();

    abstract int index();

    void reset() {
        if ((int) ACKED.getOpaque(this) != 0) {
            ACKED.setOpaque(this, 0); // published to the target by the push
        }
        level = 0;
    }

    void ack() {
        ACKED.setRelease(this, 1);
    }

    /** True once acknowledged (acquire: the watchdog reads it from the caller's thread). */
    boolean acked() {
        return (int) ACKED.getAcquire(this) != 0;
    }
}

