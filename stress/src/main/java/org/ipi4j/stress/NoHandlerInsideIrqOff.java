package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.ipi4j.Core;
import org.ipi4j.interrupts.Interrupt;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Interrupts disabled: a task on core 0 disables interrupts, passes several instruction
 * boundaries, and re-enables them, while another thread sends an IPI to core 0. The handler
 * records whether it ran inside the disabled section. Both run on core 0, so the flag needs no
 * fence: only delivery rules are tested.
 *
 * <p>End-to-end: the actors drive a live machine of {@code Rigs}, shared by every state in a fork.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT    SAMPLES     FREQ      EXPECT  DESCRIPTION
 *     0, 1  2,416,226  100.00%  Acceptable  Delivered before or after the disabled section.
 *     1, 1          0    0.00%   Forbidden  The handler ran inside a disabled section.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t NoHandlerInsideIrqOff -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("No handler may run while its core has interrupts disabled, even at checkpoints inside the section; "
    + "after the section, the pending IPI must still be delivered. Result: ran inside section, delivered.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "Delivered before or after the disabled section.")
@Outcome(id = "1, 1", expect = FORBIDDEN, desc = "The handler ran inside a disabled section.")
@Outcome(expect = FORBIDDEN, desc = "The IPI was never delivered.")
@State
public class NoHandlerInsideIrqOff implements Rigs.Receipt {
    boolean inSection;          // core 0 only
    boolean ranInside;          // core 0 only
    volatile boolean delivered;

    @Override
    public void delivered(final Interrupt irq) {
        ranInside |= inSection;
        delivered = true;
    }

    @Actor
    public void maskedSection() {
        Rigs.MACHINE.core(0).submit(() -> {
            final Core c = Core.current();
            final boolean flags = c.disableInterrupts();
            inSection = true;
            for (int i = 0; i < 4; i++) {
                c.checkpoint(); // boundaries where an interrupt would be taken if enabled
            }
            inSection = false;
            c.restoreInterrupts(flags);
        }).join();
    }

    @Actor
    public void sender() {
        Rigs.MACHINE.interrupts().send(0, Rigs.VECTOR, this);
    }

    @Arbiter
    public void arbiter(final II_Result r) {
        Rigs.await(() -> delivered);
        // The handler's writes to ranInside happen-before its volatile write of delivered.
        r.r1 = ranInside ? 1 : 0;
        r.r2 = delivered ? 1 : 0;
    }
}
