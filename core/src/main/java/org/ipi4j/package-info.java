/**
 * The emulated SMP machine: {@link org.ipi4j.Machine} (built, started, shut down with a
 * {@link org.ipi4j.ShutdownReport}), its {@link org.ipi4j.Core}s, pinning ({@link org.ipi4j.Pinning},
 * the {@link org.ipi4j.Pinner} SPI), paravirtual features ({@link org.ipi4j.Paravirt}) and the
 * read-only futures the library hands out ({@link org.ipi4j.ReadOnlyFuture}).
 *
 * <p>{@link org.ipi4j.CallerLocal} is internal: public for the {@code smp} and {@code mm} layers,
 * with no compatibility promise.
 */
package org.ipi4j;
