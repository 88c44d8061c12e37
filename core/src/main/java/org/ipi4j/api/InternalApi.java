package org.ipi4j.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a type, constructor or method that is public only so that another package of ipi4j (the
 * machine, the {@code smp} and {@code mm} layers) or the jcstress suite, which drives the real
 * classes, can reach it: not for applications, and with no compatibility promise. It may change or
 * go in any release without a word in the changelog. Applications reach the same machinery
 * through {@code Machine}, {@code Core}, {@code SmpCall} and {@code Mmu}; an observer that a
 * marked type offers (a counter, a state) may be read, but its constructors and mutators are the
 * library's own.
 *
 * <p>{@link Documented}, so the mark shows in the Javadoc of everything it is on. Retained in the
 * class files ({@link RetentionPolicy#CLASS}) for tools that check API use; the library itself
 * never reads it (no reflection), in the spirit of JCTools' {@code @InternalAPI}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.CONSTRUCTOR, ElementType.METHOD, ElementType.FIELD})
public @interface InternalApi {
}
