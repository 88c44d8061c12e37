/**
 * How an idle core waits for work: {@link org.ipi4j.idle.IdlePolicy} (spin, poll, park,
 * adaptive, or any Agrona {@code IdleStrategy}). A leaf package; the clock and parking it waits
 * through are {@link org.ipi4j.time}'s.
 */
package org.ipi4j.idle;
