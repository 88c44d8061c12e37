package org.ipi4j.interrupts;

/**
 * One distinct kind of failure and how often it happened: failures are the same kind when they
 * have the same description, vector, exception class and throwing frame (the model is Agrona's
 * {@code DistinctErrorLog}, which counts repeats instead of keeping them). Immutable.
 *
 * @param first the first occurrence, with its exception and payloads
 * @param count how many times it happened, the first included
 */
public record OopsCount(Oops first, long count) {
}
