package org.ipi4j.interrupts;

/**
 * Destination shorthands of the interrupt command register, resolved against the sending core.
 *
 * <p>{@link #SELF} and {@link #ALL_BUT_SELF} need a sender that is a core; from any other thread
 * {@code SELF} is an error and {@code ALL_BUT_SELF} means every core.
 */
public enum Shorthand {
    /** The sending core only. */
    SELF,
    /** Every core of the machine, the sender included. */
    ALL,
    /** Every core but the sender. */
    ALL_BUT_SELF
}
