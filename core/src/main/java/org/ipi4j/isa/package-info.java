/**
 * The small instruction set cores run: {@link org.ipi4j.isa.Program} (built with its builder),
 * {@link org.ipi4j.isa.ProgramResult}, physical {@link org.ipi4j.isa.Memory} and
 * {@link org.ipi4j.isa.AddressTranslation}. Interrupts are taken between instructions, so they are
 * precise.
 *
 * <p>Internal, public for the machine: {@link org.ipi4j.isa.Interpreter} and the narrow
 * {@link org.ipi4j.isa.Cpu} interface it runs against, with no compatibility promise.
 */
package org.ipi4j.isa;
