package org.ipi4j.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Negative control: the same whiteboard pattern done wrong, with a plain flag instead of the
 * library's pending bit. Nothing orders the two plain stores or the two plain loads, so the
 * reader may see the flag and still read stale data. This is not a failure of ipi4j; it shows
 * what {@link IpiMessagePassing} is protected from.
 *
 * <p>Observed in one run on the project's 2-CPU host (x86_64, OpenJDK 17.0.15, 16 forks over
 * 8 JVM configurations, 2026-12-02), and the command that runs it alone:
 * <pre>
 *   RESULT      SAMPLES     FREQ       EXPECT  DESCRIPTION
 *     0, 0   72,568,889   35.13%   Acceptable  Nothing seen yet.
 *    0, 42       64,736    0.03%   Acceptable  Data seen, flag not yet: harmless, the reader ignores the data.
 *     1, 0        7,732   <0.01%  Interesting  Flag seen, data stale: the reordering a plain flag allows.
 *    1, 42  133,928,419   64.83%   Acceptable  Flag and data seen.
 * </pre>
 * <pre>
 *   java -jar stress/target/jcstress.jar -t PlainFlagMessagePassing -iters 2 -time 200 -sc false
 * </pre>
 */
@JCStressTest
@Description("Plain flag, plain data, no release/acquire: the compiler and the CPU may reorder the stores or the "
    + "loads, so 'flag seen, data stale' is allowed by the Java memory model. ipi4j's raise() is a volatile RMW and "
    + "its boundary check an acquire load, which excludes exactly this outcome.")
@Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "Flag and data seen.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Nothing seen yet.")
@Outcome(id = "0, 42", expect = ACCEPTABLE, desc = "Data seen, flag not yet: harmless, the reader ignores the data.")
@Outcome(id = "1, 0", expect = ACCEPTABLE_INTERESTING, desc = "Flag seen, data stale: the reordering a plain flag allows.")
@State
public class PlainFlagMessagePassing {
    int data;
    int flag;

    @Actor
    public void sender() {
        data = 42;
        flag = 1;
    }

    @Actor
    public void receiver(final II_Result r) {
        r.r1 = flag;
        r.r2 = data;
    }
}
