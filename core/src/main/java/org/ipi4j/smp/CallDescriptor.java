package org.ipi4j.smp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * One target's share of a call, as queued on that target: a node of its {@link CallQueue}.
 *
 * <h2>One owner</h2>
 * A descriptor is {@code PENDING} from {@link #reset} until one party claims it with one CAS:
 * the target that is about to run the function ({@link #start}: {@code PENDING -> RUNNING}), or
 * a party that answers for it without running it ({@link #claimForGiveUp}: {@code PENDING ->
 * GIVING_UP}, then {@code ANSWERED}): the caller that could not reach the target, a caller whose
 * deadline passed or who cancelled ({@link CallCompletion#cancel()}), or shutdown failing what a stuck core
 * holds. The loser of that race neither runs nor answers it, so the function runs at most once,
 * a given-up share never runs, and exactly one acknowledgement counts for each target. The
 * target that ran the function answers with {@link #ack} ({@code RUNNING -> ANSWERED}, a release
 * store: partner of {@link #acked}'s acquire load on the watchdog's side).
 */
abstract class CallDescriptor extends CallQueue.Node {
    private static final VarHandle STATE;

    static final int PENDING = 0;
    static final int RUNNING = 1;
    static final int ANSWERED = 2;
    /** Claimed by a party that answers it without running it; ANSWERED once its failure is written. */
    static final int GIVING_UP = 3;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CallDescriptor.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** IPI rounds it took to get here; written by whoever queues it, before the push publishes it. 0: never queued. */
    int level;
    /** True if it was answered without running (given up); written before the ack that publishes it. */
    boolean skipped;
    /**
     * When the target started the function, on the machine's clock, for a call with a deadline
     * (0 otherwise): written by the target after its claim, read by a deadline's report (a recent
     * value, for the text only).
     */
    long startedAt;
    Throwable failure;
    @SuppressWarnings("unused")
    private int state;

    abstract Call call();

    abstract int index();

    void reset() {
        if ((int) STATE.getOpaque(this) != PENDING) {
            STATE.setOpaque(this, PENDING); // published to the target by the push
        }
        level = 0;
        skipped = false;
        startedAt = 0;
    }

    /** The target claims this share to run it. {@return false if someone answered for it first: do not run it} */
    boolean start() {
        return STATE.compareAndSet(this, PENDING, RUNNING);
    }

    /**
     * Claims this share to answer it without running it ({@code PENDING -> GIVING_UP}; the answer's
     * {@link #ack} makes it ANSWERED, after its failure is written, so a reader that sees it
     * answered sees why). {@return false if it is running or answered already}
     */
    boolean claimForGiveUp() {
        if (STATE.compareAndSet(this, PENDING, GIVING_UP)) {
            skipped = true; // before the ack, which publishes it
            return true;
        }
        return false;
    }

    /**
     * True if a party other than the target claimed it to answer without running it (GIVING_UP,
     * or ANSWERED with {@link #skipped}, which is written before the release that publishes
     * ANSWERED). A recent value; final once true.
     */
    boolean givenUp() {
        final int s = (int) STATE.getAcquire(this);
        return s == GIVING_UP || (s == ANSWERED && skipped);
    }

    /** The target that ran it answers (release: the caller that sees it sees the function's writes). */
    void ack() {
        STATE.setRelease(this, ANSWERED);
    }

    /** True once answered (acquire: the watchdog reads it from the caller's thread). */
    boolean acked() {
        return (int) STATE.getAcquire(this) == ANSWERED;
    }

    /**
     * Claims, to answer them without running them, every descriptor the consumer of {@code q} took
     * from it and has not started (its published cursor, {@link CallQueue#held()}), and hands each
     * to {@code answer}. A node is ours once our claim wins; then, and only then, its link is
     * stable until {@code answer} answers it, so the link is read first. A lost claim means the
     * consumer started that node after publishing a later cursor (partner: the consumer's
     * {@code hold(next)} before its {@link #start}; our failed CAS saw that start, so it sees the
     * cursor stored before it): read the cursor again. jcstress {@code HeldCallsReachable}.
     *
     * @param q the consumer's queue
     * @param answer answers one claimed descriptor (and may make it reusable)
     * @return how many descriptors were claimed
     */
    static int claimHeld(final CallQueue q, final Consumer<CallDescriptor> answer) {
        int claimed = 0;
        CallQueue.Node n = q.held();
        for (int guard = 0; n != null && guard < 1 << 20; guard++) { // bounded: a reused node cannot loop us
            final CallDescriptor d = (CallDescriptor) n;
            if (d.claimForGiveUp()) {
                n = d.next(); // before the answer: after it the caller may push d again
                answer.accept(d);
                claimed++;
            } else if (d.givenUp()) {
                // NOTE: a caller's deadline or cancel claimed d while the consumer is stuck in an
                // earlier node, so the cursor still names d: it would name d for ever. Its link is
                // stable (written by takeAll before the hold that published it) because a call
                // with a share given up by its caller is never pushed again (abandoned, or async).
                // jcstress HeldCallsReachablePastCancelled.
                n = d.next();
            } else {
                final CallQueue.Node again = q.held();
                n = again == d ? null : again;
            }
        }
        return claimed;
    }

    /** True while the target runs the function (a recent value, for reports). */
    boolean running() {
        return (int) STATE.getAcquire(this) == RUNNING;
    }
}
