package org.ipi4j.examples;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/** The user guide's API tour (docs/GUIDE.md), compiled and run by the build so it cannot rot. */
public final class Tour {
    private Tour() {
    }

    public static void main(final String[] args) throws Exception {
        // 1. A machine: 4 cores, each a pinned (where possible) platform thread.
        try (Machine machine = Machine.builder()
                .cores(4)
                .idlePolicy(IdlePolicy.adaptive())   // spin a while, then park
                .build()
                .start()) {

            // 2. An interrupt handler (one IDT entry) and IPIs: unicast, multicast, broadcast.
            final Vector hello = Vector.of(0x40);
            final CountDownLatch seen = new CountDownLatch(1 + 2 + 4);
            machine.interrupts().register(hello, irq -> {
                // Runs on the target core, kernel mode, interrupts off; sees every write the
                // sender made before send().
                irq.payloads().forEach(p -> seen.countDown());
            });
            machine.interrupts().send(1, hello, "to core 1");
            machine.interrupts().send(CpuSet.of(2, 3), hello, "to 2 and 3");
            machine.interrupts().send(Shorthand.ALL, hello, "to everyone");
            seen.await(5, TimeUnit.SECONDS);

            // 3. Cross-core calls: run on core 3 and wait; run on every core. The waiting
            //    forms return the result directly and allocate nothing.
            final SmpCall smp = SmpCall.install(machine);
            final String where = smp.call(3, cpu -> "ran on core " + cpu);
            smp.run(CpuSet.of(0, 1, 2, 3), null, cpu -> { /* per-core work, interrupts off */ }, Broadcast.tree(2));
            smp.onEachCoreAsync(cpu -> { }).join();  // returns at once with a future

            // 4. Per-core TLBs kept coherent: when protect() returns, no core can still write.
            final Mmu mmu = Mmu.builder(smp).detectStale(true).build(); // count stale accesses (a debug option)
            final AddressSpace space = mmu.newAddressSpace(16);
            space.map(0, 1, Pte.READ | Pte.WRITE);
            machine.core(2).submit(() -> {
                mmu.switchTo(space);
                mmu.write(space, 0, 42);            // cached in core 2's TLB
            }).get();
            space.protect(0, 1, Pte.READ);          // shootdown: returns after core 2 flushed

            System.out.println(where + "; shootdowns: " + space.stats().shootdowns()
                + "; stale accesses after return: " + space.stats().violations());
        }
    }
}
