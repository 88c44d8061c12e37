/**
 * What the library lets you observe: {@link org.ipi4j.observability.CoreStats} and
 * {@link org.ipi4j.observability.Percentiles}, and the JFR events (category {@code ipi4j}, off by
 * default; {@code ipi4j.jfc} in this package's resources turns them on):
 * {@link org.ipi4j.observability.InterruptSentEvent},
 * {@link org.ipi4j.observability.InterruptHandledEvent},
 * {@link org.ipi4j.observability.CrossCallEvent}, {@link org.ipi4j.observability.ShootdownEvent},
 * {@link org.ipi4j.observability.CoreParkedEvent}, {@link org.ipi4j.observability.CoreStalledEvent}
 * (with {@link org.ipi4j.observability.CoreStall}, what a stall listener is given). A leaf package.
 *
 * <p>Internal, public for the other packages: {@link org.ipi4j.observability.Counter} and the
 * events' emitting methods ({@code emit}, {@code startIfEnabled}, {@code finish}), with no
 * compatibility promise; the event names and fields are the supported part.
 */
package org.ipi4j.observability;
