package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.smp.CallQueue;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The cross-call queue's IPI decision, on the real class: the target is finishing a call it took
 * from its {@link CallQueue} (its handler will acknowledge it, then poll for more) while a caller
 * queues a second one. The caller sends an IPI only if the queue looked idle; otherwise it relies
 * on the running handler to find its descriptor. Either the caller sends an IPI, or the handler
 * drains the second call: never neither.
 */
@JCStressTest
@Description("Handler: finished(first), then poll until empty. Caller: offer(second), IPI if the count was 0. "
    + "Result: (caller sends an IPI, handler ran the second call, second call left in the queue).")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "Coalesced: the running handler found the second call.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The handler had finished; the caller sends an IPI for a new drain.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "The handler ran the call before the caller counted it; a spare IPI finds nothing.")
@Outcome(id = "0, 0, 1", expect = FORBIDDEN, desc = "Stranded: no IPI and no drain will ever run the second call.")
@State
public class CallQueueNoStrandedCall {
    final CallQueue<String> queue = new CallQueue<>();
    int ipi;
    int ranSecond;

    public CallQueueNoStrandedCall() {
        queue.offer("first");   // the first call's IPI was sent...
        queue.poll();           // ...and its handler took it and is running it
    }

    @Actor
    public void handler() {
        queue.finished();       // first call done, about to be acknowledged
        String d;
        while ((d = queue.poll()) != null) {
            if (d.equals("second")) {
                ranSecond = 1;
            }
            queue.finished();
        }
    }

    @Actor
    public void caller() {
        ipi = queue.offer("second") ? 1 : 0;
    }

    @Arbiter
    public void arbiter(final III_Result r) {
        r.r1 = ipi;
        r.r2 = ranSecond;
        r.r3 = queue.poll() != null ? 1 : 0;
    }
}
