package org.ipi4j.mm;

import org.ipi4j.observability.Percentiles;

/**
 * What the shootdowns of one address space cost, as recorded by the library. Immutable snapshot.
 *
 * @param shootdowns      shootdowns completed
 * @param remoteTargets   flush requests sent to other cores (one IPI each, unless coalesced)
 * @param lazySkips       cores in the cpumask skipped because they were not running the space
 * @param fullFlushes     targets that flushed the whole space (ceiling or generation catch-up)
 * @param window          illegal-access window: first PTE change to the last target's invalidation
 * @param delivery        per target: flush request sent to handler entry
 * @param irqOffDelay     per target: the part of delivery spent waiting for interrupts to be re-enabled
 * @param handler         per target: time spent invalidating
 * @param stalledCoreNanos sum over shootdowns of (targets' handler time + the initiator's wait)
 * @param stormCost       stalled core-seconds per second since the space was created
 * @param staleAccesses   translations served from an entry already revoked (inside a window)
 * @param violations      translations served from a revoked entry after its shootdown returned: must be 0
 */
public record ShootdownStats(long shootdowns, long remoteTargets, long lazySkips, long fullFlushes,
                             Percentiles window, Percentiles delivery, Percentiles irqOffDelay, Percentiles handler,
                             long stalledCoreNanos, double stormCost, long staleAccesses, long violations) {
}
