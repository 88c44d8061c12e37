/**
 * The software MMU, built on cross-core calls: {@link org.ipi4j.mm.Mmu}, address spaces with
 * their page tables ({@link org.ipi4j.mm.AddressSpace}, {@link org.ipi4j.mm.PageTable},
 * {@link org.ipi4j.mm.Pte}), per-core {@link org.ipi4j.mm.Tlb}s kept coherent by TLB shootdown,
 * batching with {@link org.ipi4j.mm.MmuGather}, and what a shootdown measured
 * ({@link org.ipi4j.mm.ShootdownStats}, {@link org.ipi4j.mm.StaleAccess}). After a call that
 * revokes a right returns, no core translates through the revoked entry.
 */
package org.ipi4j.mm;
