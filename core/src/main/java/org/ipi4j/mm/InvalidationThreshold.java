package org.ipi4j.mm;

import org.ipi4j.sim.CostModel;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.time.Timeline;

/**
 * {@link Mmu.Builder#broadcastInvalidationByCost()}'s choice: the fewest cores a space must be
 * active on for one broadcast invalidation of a page to be estimated faster than a shootdown by
 * IPIs to the others. Both estimates charge what a simulation with the model charges:
 * <ul>
 *   <li>by IPIs, on {@code a} active cores: the broadcast shape's
 *       {@link Broadcast#estimateNanos estimate} for {@code a - 1} targets, plus one
 *       {@code flush-page} on the last target (the initiator's own flush overlaps);</li>
 *   <li>by broadcast: one {@value CostModel#INVLPGB} and one {@value CostModel#TLBSYNC} on the
 *       initiator, whatever the number of cores.</li>
 * </ul>
 * The one-off transition (an IPI round to every core) is not counted. Stateless.
 */
final class InvalidationThreshold {
    private InvalidationThreshold() {
    }

    /**
     * @param model the machine's cost model
     * @param cores the machine's core count
     * @param shape how the MMU's shootdowns by IPIs reach their targets
     * @return the threshold, 2 or more, or 0 (off) if IPIs win on every count up to {@code cores}
     */
    static int fromCosts(final CostModel model, final int cores, final Broadcast shape) {
        final long broadcast = model.price(Timeline.Work.named(CostModel.INVLPGB))
            + model.price(Timeline.Work.named(CostModel.TLBSYNC));
        for (int active = 2; active <= cores; active++) {
            if (broadcast < byIpis(model, active, shape)) {
                return active;
            }
        }
        return 0;
    }

    /** The estimated shootdown of one page by IPIs on a space active on {@code active} cores. */
    static long byIpis(final CostModel model, final int active, final Broadcast shape) {
        return shape.estimateNanos(active - 1, model) + model.flushPage();
    }
}
