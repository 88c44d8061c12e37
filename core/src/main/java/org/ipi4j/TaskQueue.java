package org.ipi4j;

import java.util.concurrent.Callable;

import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpmcUnboundedXaddArrayQueue;

/**
 * The tasks submitted to one core, each with its own read-only future. The core takes them one at
 * a time and runs them; shutdown fails those a core will never take. Each task is taken once, by
 * the core or by shutdown, never both: the queue is multi-consumer for that.
 *
 * <p>Thread-safety: any thread queues (through {@link #queue()}) and fails; the core polls.
 * Everything a submitter did before its offer happens-before the task runs (the queue's offer and
 * poll); everything the task did happens-before its future completes.
 */
final class TaskQueue {
    /** An XADD queue, whose offer is the RMW the idle re-check pairs with. */
    private final MpmcUnboundedXaddArrayQueue<Runnable> queue = new MpmcUnboundedXaddArrayQueue<>(64);
    /** Repairs what a task must not leave behind. */
    private final Runnable afterTask;

    /** An empty queue whose tasks run {@code afterTask} on the core after their body, before their future completes. */
    TaskQueue(final Runnable afterTask) {
        this.afterTask = afterTask;
    }

    /** {@return a task that runs {@code body}, to offer to {@link #queue()}} */
    <T> Task<T> task(final Callable<T> body) {
        return new Task<>(body);
    }

    /** {@return the queue to offer tasks to (the interrupt controller's post does it, and wakes the core)} */
    MessagePassingQueue<Runnable> queue() {
        return queue;
    }

    /** {@return the next task, or null} Core thread only. */
    Runnable poll() {
        return queue.poll();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Fails every task still queued (the core will never run them); returns how many. */
    int rejectAll(final RuntimeException why) {
        int n = 0;
        Runnable r;
        while ((r = queue.poll()) != null) {
            ((Task<?>) r).fail(why);
            n++;
        }
        return n;
    }

    /** A queued task, and its own read-only future; completing it publishes the task's writes. */
    final class Task<T> extends ReadOnlyFuture<T> implements Runnable {
        private final Callable<T> body;

        private Task(final Callable<T> body) {
            this.body = body;
        }

        @Override
        public void run() {
            T result = null;
            Throwable failure = null;
            try {
                result = body.call();
            } catch (Throwable t) {
                failure = t;
            }
            afterTask.run(); // oopses are recorded before anyone waiting on the future wakes
            if (failure == null) {
                succeed(result);
            } else {
                fail(failure);
            }
        }
    }
}
