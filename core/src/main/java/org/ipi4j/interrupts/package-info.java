/**
 * The vocabulary of interrupts, shared by every layer: {@link org.ipi4j.interrupts.Vector},
 * {@link org.ipi4j.interrupts.CpuSet} and {@link org.ipi4j.interrupts.Shorthand}, the handler
 * interfaces and the view a handler gets ({@link org.ipi4j.interrupts.Interrupt},
 * {@link org.ipi4j.interrupts.TrapFrame}), the policies ({@link org.ipi4j.interrupts.OverflowPolicy},
 * {@link org.ipi4j.interrupts.FaultPolicy}, {@link org.ipi4j.interrupts.DeliveryMode}) and the
 * library's exceptions, all extending {@link org.ipi4j.interrupts.Ipi4jException}. A leaf: it
 * depends on no other ipi4j package.
 */
package org.ipi4j.interrupts;
