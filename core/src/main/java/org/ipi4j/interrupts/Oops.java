package org.ipi4j.interrupts;

import java.util.List;

/**
 * A recorded failure inside a core: a handler that threw, or a task that broke an invariant
 * (for example returned with interrupts still disabled). Immutable.
 *
 * @param cpu       core it happened on, or -1 if not on a core (a shutdown hook)
 * @param vector    vector being handled, or null when not in a handler
 * @param what      short description
 * @param error     the exception, or null
 * @param payloads  payloads the failed handler had received (nothing is lost silently)
 * @param nanoTime  {@link System#nanoTime()} when recorded
 */
public record Oops(int cpu, Vector vector, String what, Throwable error, List<Object> payloads, long nanoTime) {
}
