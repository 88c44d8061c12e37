/**
 * How an idle core waits for work: {@link org.ipi4j.idle.IdlePolicy} (spin, poll, park, adaptive,
 * or any Agrona {@code IdleStrategy}). A leaf package.
 */
package org.ipi4j.idle;
