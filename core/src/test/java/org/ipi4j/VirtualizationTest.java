package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.ipi4j.apic.Vcpu;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.PageFaultException;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.CallTimeoutException;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Preempted cores (descheduled vCPUs) and the paravirtual features built on them. */
@Timeout(60)
class VirtualizationTest {
    static final Vector V = Vector.of(0x40);

    static Machine.Builder builder(final int cores) {
        return Machine.builder().cores(cores).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE);
    }

    /** Bounded wait for a state a core reaches by itself. */
    static void waitFor(final String what, final BooleanSupplier condition) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("timed out waiting for " + what).isTrue();
            Thread.onSpinWait();
        }
    }

    @RepeatedTest(3)
    void aPreemptedCoreTakesNoInterruptUntilItResumes() throws Exception {
        try (Machine m = builder(2).build().start()) {
            final AtomicInteger handled = new AtomicInteger();
            final CountDownLatch seen = new CountDownLatch(1);
            m.interrupts().register(V, irq -> {
                handled.incrementAndGet();
                seen.countDown();
            });
            m.core(1).preemptUntilResumed();
            waitFor("core 1 preempted", () -> m.core(1).state() == Core.State.PREEMPTED);
            m.interrupts().send(1, V, "x");
            assertThat(m.interrupts().apic(1).pending(V.number())).isTrue();
            assertThat(handled.get()).as("taken while stopped").isZero();
            m.core(1).resume();
            assertThat(seen.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(m.core(1).isPreempted()).isFalse();
            assertThat(m.core(1).vcpu().preemptions()).isEqualTo(1);
        }
    }

    @Test
    void aTimedPreemptionLastsItsDurationAndEndsByItself() {
        try (Machine m = builder(1).build().start()) {
            m.core(0).preempt(Duration.ofMillis(50));
            waitFor("core 0 preempted", () -> m.core(0).isPreempted());
            waitFor("core 0 running again", () -> !m.core(0).isPreempted());
            assertThat(m.core(0).vcpu().stolenNanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(45));
            assertThat(m.core(0).submit(() -> { })).succeedsWithin(Duration.ofSeconds(10));
        }
    }

    /** Cores 1 and 2 run a space with page 0 cached writable; core 2 is preempted when write is revoked. */
    record Rig(Machine machine, SmpCall smp, Mmu mmu, AddressSpace as) implements AutoCloseable {
        static Rig of(final Machine.Builder b) throws Exception {
            final Machine m = b.build().start();
            final SmpCall smp = SmpCall.install(m);
            final Mmu mmu = Mmu.builder(smp).detectStale(true).build();
            final AddressSpace as = mmu.newAddressSpace(2);
            as.map(0, 1, Pte.READ | Pte.WRITE);
            for (final int cpu : new int[] {1, 2}) {
                m.core(cpu).submit(() -> {
                    mmu.switchTo(as);
                    mmu.write(as, 0, 1);
                }).get(10, TimeUnit.SECONDS);
            }
            return new Rig(m, smp, mmu, as);
        }

        boolean writes(final int cpu) throws Exception {
            return machine.core(cpu).submit(() -> {
                try {
                    mmu.write(as, 0, 2);
                    return true;
                } catch (PageFaultException e) {
                    return false;
                }
            }).get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    @RepeatedTest(3)
    void pvFlushFlagsAPreemptedTargetInsteadOfWaitingAndItFlushesBeforeRunning() throws Exception {
        try (Rig r = Rig.of(builder(3))) {
            r.machine().core(2).preemptUntilResumed();
            waitFor("core 2 preempted", () -> r.machine().core(2).isPreempted());
            r.as().protect(0, 1, Pte.READ); // returns without core 2: it cannot answer while stopped
            assertThat(r.mmu().pvFlushes()).isEqualTo(1);
            assertThat(r.machine().core(2).vcpu().state() & Vcpu.FLUSH_PENDING).isNotZero();
            assertThat(r.as().stats().remoteTargets()).as("only core 1 was interrupted").isEqualTo(1);
            assertThat(r.writes(1)).isFalse();
            r.machine().core(2).resume();
            assertThat(r.writes(2)).as("core 2 after its resume flush").isFalse();
            assertThat(r.machine().core(2).vcpu().state()).isZero();
            assertThat(r.as().stats().violations()).isZero();
        }
    }

    @Test
    void withoutPvFlushTheShootdownWaitsForThePreemptedCore() throws Exception {
        try (Rig r = Rig.of(builder(3).paravirt())) {
            r.machine().core(2).preemptUntilResumed();
            waitFor("core 2 preempted", () -> r.machine().core(2).isPreempted());
            final long core1Before = r.machine().core(1).stats().received();
            final CompletableFuture<Long> revoked = CompletableFuture.supplyAsync(() -> {
                r.as().protect(0, 1, Pte.READ);
                return System.nanoTime();
            });
            // Core 1 takes the flush at once; core 2 can only answer once it runs again.
            waitFor("core 1 took the flush", () -> r.machine().core(1).stats().received() > core1Before);
            final long resumedAt = System.nanoTime();
            final boolean doneBeforeResume = revoked.isDone();
            r.machine().core(2).resume();
            assertThat(doneBeforeResume).as("returned while core 2 was stopped").isFalse();
            assertThat(revoked.get(10, TimeUnit.SECONDS)).isGreaterThan(resumedAt);
            assertThat(r.mmu().pvFlushes()).isZero();
            assertThat(r.as().stats().remoteTargets()).isEqualTo(2);
            assertThat(r.writes(2)).isFalse();
        }
    }

    @Test
    void aWaitingCallerYieldsToAPreemptedTargetOnlyWithDirectedYield() {
        try (Machine m = builder(2).build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(5), org.ipi4j.smp.Broadcast.flat());
            m.core(1).preemptUntilResumed();
            waitFor("core 1 preempted", () -> m.core(1).isPreempted());
            final int ran = smp.call(1, cpu -> cpu);
            assertThat(ran).isEqualTo(1);
            assertThat(smp.yieldsToPreempted()).isEqualTo(1);
            assertThat(smp.watchdogResends()).as("the caller yielded before it slept, not after the watchdog").isZero();
            // The same from a core that waits: it yields before it idles.
            m.core(1).preemptUntilResumed();
            waitFor("core 1 preempted again", () -> m.core(1).isPreempted());
            assertThat(m.core(0).submit(() -> smp.call(1, cpu -> cpu + 10))).succeedsWithin(Duration.ofSeconds(10))
                .isEqualTo(11);
            assertThat(smp.yieldsToPreempted()).isEqualTo(2);
            assertThat(smp.watchdogResends()).isZero();
            assertThat(m.core(1).isPreempted()).isFalse();
        }
        try (Machine m = builder(2).paravirt().build().start()) {
            final SmpCall smp = SmpCall.install(m, Duration.ofMillis(100), org.ipi4j.smp.Broadcast.flat());
            m.core(1).preemptUntilResumed();
            waitFor("core 1 preempted", () -> m.core(1).isPreempted());
            assertThatThrownBy(() -> smp.call(1, cpu -> cpu)).isInstanceOfSatisfying(CallTimeoutException.class,
                e -> assertThat(e.cpus()).isEqualTo(CpuSet.of(1)));
            assertThat(smp.yieldsToPreempted()).isZero();
            m.core(1).resume();
        }
    }

    @Test
    void pvSendIpiCountsOneHypercallPerBatchInsteadOfOneExitPerTarget() {
        for (final boolean pv : new boolean[] {true, false}) {
            final Machine.Builder b = builder(8);
            try (Machine m = (pv ? b : b.paravirt(Paravirt.TLB_FLUSH, Paravirt.SCHED_YIELD)).build().start()) {
                final SmpCall smp = SmpCall.install(m);
                final long before = m.interrupts().vmExits();
                smp.onOtherCores(cpu -> { }); // from outside: every core, one flat broadcast
                assertThat(m.interrupts().vmExits() - before).as("pv " + pv).isEqualTo(pv ? 1 : 8);
                final long unicast = m.interrupts().vmExits();
                smp.run(3, cpu -> { });
                assertThat(m.interrupts().vmExits() - unicast).isEqualTo(1);
            }
        }
    }

    @Test
    void shutdownEndsEveryPreemption() {
        final Machine m = builder(2).build().start();
        m.core(0).preemptUntilResumed();
        waitFor("core 0 preempted", () -> m.core(0).isPreempted());
        final ShutdownReport r = m.shutdown(Duration.ofSeconds(5));
        assertThat(r.isClean()).as(r.toString()).isTrue();
        assertThat(m.core(0).state()).isEqualTo(Core.State.HALTED);
    }

    @Test
    void badArgumentsAreNamed() {
        try (Machine m = builder(1).build().start()) {
            assertThatThrownBy(() -> m.core(0).preempt(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duration");
            assertThatThrownBy(() -> m.core(0).preempt(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("duration");
            assertThatThrownBy(() -> m.paravirt(null)).hasMessage("feature");
            assertThatThrownBy(() -> Machine.builder().paravirt((Paravirt) null)).hasMessage("features");
        }
    }
}
