package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Broadcast invalidation (the INVLPGB/TLBSYNC model): the space is already global, so revoking
 * write clears core 1's TLB entry from the revoker's thread and waits with TLBSYNC; no interrupt
 * reaches core 1. Core 1 meanwhile looks whether the revoking call returned and tries to write
 * through its cached translation. Races the remote clear and the TLBSYNC epoch wait with core 1's
 * bracketed lookup and walk.
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT  SAMPLES     FREQ       EXPECT  DESCRIPTION
 *     0, 0      275    0.20%  Interesting  The entry was already cleared before the call returned.
 *     0, 1    9,598    7.09%   Acceptable  The write happened before the revocation reached the TLB.
 *     1, 0  125,524   92.71%   Acceptable  Shootdown returned, the write faulted.
 *     1, 1        0    0.00%    Forbidden  A write went through a revoked entry after the broadcast shootdown returned.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t BroadcastFlushSafety -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("After a broadcast shootdown's TLBSYNC returns, no core translates through the revoked entry. "
    + "Result: revoking call had returned when the core looked, the core's write succeeded.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "A write went through a revoked entry after the broadcast shootdown returned.")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Shootdown returned, the write faulted.")
@Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "The entry was already cleared before the call returned.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The write happened before the revocation reached the TLB.")
@State
public class BroadcastFlushSafety {
    final AddressSpace as = Rigs.BC_MMU.newAddressSpace(2);
    volatile boolean returned;

    public BroadcastFlushSafety() {
        as.map(0, 0, Pte.READ | Pte.WRITE);
        as.map(1, 1, Pte.READ | Pte.WRITE);
        Rigs.BC_MACHINE.core(1).submit(() -> {
            Rigs.BC_MMU.switchTo(as);
            Rigs.BC_MMU.write(as, 0, 1); // cached writable in core 1's TLB
        }).join();
        as.protect(1, 1, Pte.READ); // the transition (an IPI round); from now on: broadcast
        if (!as.isGlobal()) {
            throw new IllegalStateException("the space did not get a global ASID");
        }
    }

    @Actor
    public void revoker() {
        as.protect(0, 1, Pte.READ);
        returned = true;
    }

    @Actor
    public void user(final II_Result r) {
        final int[] out = Rigs.BC_MACHINE.core(1).submit(() -> {
            return Rigs.lookThenWrite(Rigs.BC_MMU, as, () -> returned);
        }).join();
        r.r1 = out[0];
        r.r2 = out[1];
    }
}
