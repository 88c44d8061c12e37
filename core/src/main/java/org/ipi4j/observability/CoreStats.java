package org.ipi4j.observability;

/**
 * A snapshot of one core's counters. Each field was read separately while the core ran, so the
 * fields are individually exact but not one atomic cut.
 *
 * @param cpu                  core id
 * @param hostCpu              host CPU the core is pinned to, or -1 if unpinned
 * @param sent                 interrupts this core sent (one per target)
 * @param received             interrupt entries this core took (handler invocations)
 * @param payloads             payloads its handlers received
 * @param coalesced            sends to this core that found the vector already pending
 * @param unparkWakeups        sends/submissions to this core that had to unpark it
 * @param elidedWakeups        sends/submissions to this core that needed no unpark (it was running or polling)
 * @param handlerNanos         total time spent in its handlers; 0 unless the machine times handlers
 *                             ({@code Machine.Builder.timeHandlers})
 * @param maxIrqOffNanos       longest stretch with interrupts disabled by code (not handlers); 0 unless
 *                             the machine times handlers, which also times these stretches (without
 *                             it, disabling and re-enabling interrupts reads no clock)
 * @param exceptions           exceptions (#GP, #PF, ...) raised on this core
 * @param oopses               handler failures and invariant breaks recorded on this core
 * @param tasks                Java tasks, timers' runs and programs run to completion
 * @param stalls               stalls reported on this core: stretches longer than the machine's stall
 *                             threshold without an instruction boundary ({@code Machine.Builder.stallThreshold});
 *                             0 unless it is set
 */
public record CoreStats(int cpu, int hostCpu, long sent, long received, long payloads, long coalesced,
                        long unparkWakeups, long elidedWakeups, long handlerNanos, long maxIrqOffNanos,
                        long exceptions, long oopses, long tasks, long stalls) {
}
