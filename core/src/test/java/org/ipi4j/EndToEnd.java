package org.ipi4j;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;

/**
 * Marks an end-to-end test: one that starts a machine (cores on their own threads) and drives it
 * through the public API, checking a property of the running whole that no single protocol holds
 * alone: two protocols meeting (a stuck, nested or re-entering party, a second initiator), a
 * shutdown racing the work in flight, or many threads over many rounds. The other tests of this
 * module each check one feature's contract a case at a time (most on a small started machine,
 * since the protocol classes are package-private) or explore simulated schedules ({@code sim}).
 *
 * <p>It is the JUnit tag {@value #TAG}: {@code mvn -pl core test -Dgroups=end-to-end} runs these
 * alone, {@code -DexcludedGroups=end-to-end} everything else (docs/TESTING.md has the layers and
 * their commands).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Tag(EndToEnd.TAG)
public @interface EndToEnd {
    /** The tag's name, for {@code -Dgroups} and {@code -DexcludedGroups}. */
    String TAG = "end-to-end";
}
