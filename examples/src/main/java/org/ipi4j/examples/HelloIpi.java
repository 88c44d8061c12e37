package org.ipi4j.examples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Core;
import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;

/**
 * Boots a 4-core machine, sends a unicast, a multicast and a broadcast IPI, and prints what each
 * core saw and when (microseconds after the first send), with the counters at the end.
 *
 * <p>Run: {@code mvn -q -pl examples exec:java -Dexample=HelloIpi} (after {@code mvn -q install -DskipTests}).
 */
public final class HelloIpi {
    /** One handler entry as a core saw it. */
    record Seen(long atNanos, int cpu, int vector, List<Object> payloads, long epc) {
    }

    private HelloIpi() {
    }

    public static void main(final String[] args) throws Exception {
        final List<Seen> log = Collections.synchronizedList(new ArrayList<>());
        final Vector hello = Vector.of(0x40);
        // Count payloads, not handler entries: two sends to one core may coalesce into one entry.
        final CountDownLatch payloads = new CountDownLatch(1 + 2 + 4);
        final long[] epoch = {System.nanoTime()};
        try (Machine machine = Machine.builder().name("hello").cores(4).idlePolicy(IdlePolicy.adaptive()).build().start()) {
            System.out.printf("booted %s on %d host CPUs%s%n", machine, Machine.hostCpus(),
                machine.oversubscribed() ? " (oversubscribed)" : "");
            for (final Core core : machine.cores()) {
                System.out.printf("  core %d -> host cpu %s%n", core.id(), core.hostCpu() < 0 ? "unpinned" : core.hostCpu());
            }
            // The handler runs on the target core with interrupts off; keep it short: record, return.
            machine.interrupts().register(hello, irq -> {
                log.add(new Seen(System.nanoTime() - epoch[0], irq.cpu(), irq.vector().number(), List.copyOf(irq.payloads()), irq.frame().epc()));
                irq.payloads().forEach(p -> payloads.countDown());
            });

            epoch[0] = System.nanoTime(); // read by handlers only after the sends below (happens-before)
            machine.interrupts().send(1, hello, "unicast to core 1");
            machine.interrupts().send(CpuSet.of(2, 3), hello, "multicast to {2,3}");
            // A broadcast sent from core 0 itself, so ALL includes the sender.
            machine.core(0).submit(() -> machine.interrupts().send(Shorthand.ALL, hello, "broadcast from core 0")).join();

            if (!payloads.await(5, TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every payload arrived: " + payloads.getCount() + " missing");
            }
            final List<Seen> sorted = new ArrayList<>(log);
            sorted.sort(Comparator.comparingLong(Seen::atNanos));
            System.out.println();
            System.out.println("    t(us)  core  vector  payloads");
            for (final Seen s : sorted) {
                System.out.printf("%9.1f  %4d  %6d  %s%n", s.atNanos() / 1000.0, s.cpu(), s.vector(), s.payloads());
            }
            System.out.println();
            System.out.println("counters:");
            machine.stats().forEach(st -> System.out.printf(
                "  core %d: sent %d, received %d, payloads %d, coalesced %d, unparks %d, elided %d%n",
                st.cpu(), st.sent(), st.received(), st.payloads(), st.coalesced(), st.unparkWakeups(), st.elidedWakeups()));
        }
    }
}
