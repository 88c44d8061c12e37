/**
 * Cross-core function calls and scheduling, built on the machine: {@link org.ipi4j.smp.SmpCall}
 * (Linux's {@code smp_call_function*}), {@link org.ipi4j.smp.Broadcast} shapes, the
 * {@link org.ipi4j.smp.Scheduler}, and the call's completion and exceptions.
 *
 * <p>Internal: {@link org.ipi4j.smp.CallQueue} (public for the jcstress suite), with no
 * compatibility promise.
 */
package org.ipi4j.smp;
