package org.ipi4j.smp;

import java.util.concurrent.atomic.AtomicInteger;

import org.jctools.queues.MpscUnboundedXaddArrayQueue;

/**
 * One core's queue of cross-call descriptors, and the count that decides when a new
 * call-function IPI is needed (Linux's {@code call_single_queue} with its "queue was empty"
 * test).
 *
 * <h2>The decision</h2>
 * A caller {@link #offer}s its descriptor, then increments the count: only the caller whose
 * increment found 0 sends the IPI; the others coalesce, because the handler keeps polling until
 * the queue is empty. The handler {@link #finished() decrements} for every descriptor it ran,
 * before acknowledging it, and stops when {@link #poll()} finds nothing.
 *
 * <p>Why nothing is stranded: the count and the queue's producer index are each changed by
 * volatile read-modify-writes, which are totally ordered. A caller that found the count above 0
 * incremented before the handler's decrement of the descriptor in progress, so its offer (done
 * before the increment) is visible to the handler's next poll, made after that decrement; JCTools'
 * {@code poll()} waits for an element whose producer index it has seen. A caller that found 0
 * sends an IPI, which starts a new drain. The jcstress test {@code CallQueueNoStrandedCall} drives
 * this class.
 *
 * <p>Any number of callers; one handler (the owning core). The queue recycles its chunks, so a
 * steady stream of calls allocates nothing.
 */
public final class CallQueue<E> {
    private final MpscUnboundedXaddArrayQueue<E> queue = new MpscUnboundedXaddArrayQueue<>(64, 4);
    /** Descriptors queued and not yet finished; 0 -> 1 is what sends an IPI. */
    private final AtomicInteger queued = new AtomicInteger();

    /**
     * Queues {@code descriptor}. Any thread.
     *
     * @return true if the caller must send the IPI (the queue was idle), false if the call
     *         coalesced with a drain that will find it
     */
    public boolean offer(final E descriptor) {
        queue.offer(descriptor);                 // volatile RMW of the producer index
        return queued.getAndIncrement() == 0;    // partner: finished() then poll() on the handler
    }

    /** The next descriptor, or null when the queue is empty. Handler only. */
    public E poll() {
        return queue.poll();
    }

    /** One descriptor finished; call before acknowledging it. Handler only. */
    public void finished() {
        queued.getAndDecrement();
    }

    /** Descriptors queued and not finished (a recent value). */
    public int size() {
        return queued.get();
    }
}
