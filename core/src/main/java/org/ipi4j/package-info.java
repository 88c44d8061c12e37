/**
 * The emulated SMP machine: {@link org.ipi4j.Machine} (built, started, shut down with a
 * {@link org.ipi4j.ShutdownReport}), its {@link org.ipi4j.Core}s, pinning ({@link org.ipi4j.Pinning},
 * the {@link org.ipi4j.Pinner} SPI), paravirtual features ({@link org.ipi4j.Paravirt}) and the
 * read-only futures the library hands out ({@link org.ipi4j.ReadOnlyFuture}).
 *
 * <p>{@link org.ipi4j.CallerLocal} is internal ({@link org.ipi4j.api.InternalApi}): public for the
 * {@code smp} and {@code mm} layers, with no compatibility promise.
 *
 * <p>Inside, one job per file, and no two files reach each other (FileDependencyTest holds it):
 * a core is its public face over a package-private {@code CoreRuntime} (its thread's run loop,
 * instruction boundary and stop), whose tasks are a {@code TaskQueue} and whose timers
 * ({@link org.ipi4j.CoreTimer}) wait in a {@code TimerQueue}; a program sees it as a
 * {@code ProgramCpu}. A {@code StallWatch} samples the cores' boundary counts when the builder
 * sets a stall threshold. A core knows its machine only as a {@code CoreHost}; the machine is made
 * from a {@code MachineConfig}, books failures in an {@code OopsLog} and stops its cores with a
 * {@code ShutdownSequence}.
 */
package org.ipi4j;
