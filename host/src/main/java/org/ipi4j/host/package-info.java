/**
 * The host kernel's own inter-processor interrupt and TLB shootdown, made from user space through
 * JNA ({@code membarrier(2)}, {@code mprotect(2)}): the real mechanisms ipi4j emulates, for the
 * lab to measure beside the emulation in the same run. Optional and Linux-only; nothing in
 * {@code ipi4j-core} needs it. Every refusal of the host's names its {@code errno}.
 */
package org.ipi4j.host;
