/**
 * How an idle core waits for work, and where time comes from: {@link org.ipi4j.idle.IdlePolicy}
 * (spin, poll, park, adaptive, or any Agrona {@code IdleStrategy}) and
 * {@link org.ipi4j.idle.Timeline}, the clock, parking, spinning and cost hooks every layer waits
 * through (the host's, or a simulation's). A leaf package.
 */
package org.ipi4j.idle;
