package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class RoutingTableTest {
    @RepeatedTest(3)
    void noCoreReadsAnOldRouteOrAFreedSlotAfterAnUpdateReturns() {
        final RoutingTable.Outcome o = RoutingTable.run(4, 300);
        assertThat(o.lookups()).isPositive();
        assertThat(o.sawFreedSlot()).isZero();
        assertThat(o.staleAfterReturn()).isZero();
    }
}
