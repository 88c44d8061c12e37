package org.ipi4j.idle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.junit.jupiter.api.Test;

class IdlePolicyTest {
    @Test
    void eachPolicySaysWhenItNeedsAnUnpark() {
        assertThat(IdlePolicy.spin().pollRoundsBeforePark()).isEqualTo(Long.MAX_VALUE);
        assertThat(IdlePolicy.poll(Duration.ofMillis(1)).pollRoundsBeforePark()).isEqualTo(Long.MAX_VALUE);
        assertThat(IdlePolicy.park().pollRoundsBeforePark()).isZero();
        assertThat(IdlePolicy.adaptive(50, 5).pollRoundsBeforePark()).isEqualTo(55);
        // The default adaptive policy does not yield before parking (see its Javadoc).
        assertThat(IdlePolicy.adaptive().pollRoundsBeforePark()).isEqualTo(200);
        assertThat(IdlePolicy.adaptive()).hasToString("adaptive(200,0)");
    }

    @Test
    void pollingStagesAreAgronaStrategies() {
        assertThat(IdlePolicy.spin().pollingStrategy()).isInstanceOf(BusySpinIdleStrategy.class);
        assertThat(IdlePolicy.poll(Duration.ofNanos(10_000)).pollingStrategy()).isInstanceOf(SleepingIdleStrategy.class);
        assertThat(IdlePolicy.adaptive().pollingStrategy()).isInstanceOf(BackoffIdleStrategy.class);
        assertThat(IdlePolicy.poll(Duration.ofNanos(10_000)).intervalNanos()).isEqualTo(10_000);
        // Each call gives a fresh instance: strategies keep per-core state.
        assertThat(IdlePolicy.adaptive().pollingStrategy()).isNotSameAs(IdlePolicy.adaptive().pollingStrategy());
    }
}
