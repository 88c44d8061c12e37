package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.Core;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * PV TLB flush: core 1 of a machine with {@code Paravirt.TLB_FLUSH} has page 0 cached writable.
 * One actor revokes write; the other, as the host, preempts core 1, waits until it has stopped,
 * resumes it, and then has it look whether the revoking call returned and try to write. A
 * shootdown that finds core 1 stopped flags FLUSH_PENDING with a CAS instead of interrupting it;
 * core 1 takes both bits with one getAndSet when it resumes and flushes before it runs anything.
 * The race of that CAS with that getAndSet is the point of the test.
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT  SAMPLES     FREQ       EXPECT  DESCRIPTION
 *     0, 0      720    1.71%  Interesting  The right was revoked before the call returned.
 *     0, 1    2,997    7.11%   Acceptable  The write happened before the revocation.
 *     1, 0   38,431   91.18%   Acceptable  Shootdown returned (IPI or PV flag), the write faulted.
 *     1, 1        0    0.00%    Forbidden  After the shootdown returned, the resumed core wrote through the revoked entry.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t PvFlushSafety -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("A resuming core never uses a translation older than a shootdown that flagged it for a PV flush. "
    + "Result: revoking call had returned when the resumed core looked, the core's write succeeded.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "After the shootdown returned, the resumed core wrote through the revoked entry.")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "Shootdown returned (IPI or PV flag), the write faulted.")
@Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING, desc = "The right was revoked before the call returned.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The write happened before the revocation.")
@State
public class PvFlushSafety {
    final AddressSpace as = Rigs.PV_MMU.newAddressSpace(1);
    volatile boolean returned;

    public PvFlushSafety() {
        as.map(0, 1, Pte.READ | Pte.WRITE);
        Rigs.PV_MACHINE.core(1).submit(() -> {
            Rigs.PV_MMU.switchTo(as);
            Rigs.PV_MMU.write(as, 0, 1); // cached writable in core 1's TLB
        }).join();
    }

    @Actor
    public void revoker() {
        as.protect(0, 1, Pte.READ);
        returned = true;
    }

    @Actor
    public void host(final II_Result r) {
        final Core core = Rigs.PV_MACHINE.core(1);
        core.preemptUntilResumed();
        Rigs.await(core::isPreempted); // bounded: a broken library is reported, not hung
        core.resume();
        final int[] out = core.submit(() -> {
            return Rigs.lookThenWrite(Rigs.PV_MMU, as, () -> returned);
        }).join();
        r.r1 = out[0];
        r.r2 = out[1];
    }
}
