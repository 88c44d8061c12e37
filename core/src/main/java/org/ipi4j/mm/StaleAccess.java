package org.ipi4j.mm;

/**
 * A translation served from a TLB entry whose rights had already been revoked in the page table.
 * Inside a shootdown's window this is expected (that is what the window is); after the shootdown
 * returned it is a {@code violation} and a bug. Immutable.
 *
 * @param cpu       core that translated
 * @param vpn       virtual page
 * @param nanoTime  when
 * @param violation true if the revoking shootdown had already returned
 */
public record StaleAccess(int cpu, int vpn, long nanoTime, boolean violation) {
}
