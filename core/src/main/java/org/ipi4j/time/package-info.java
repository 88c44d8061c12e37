/**
 * Where time comes from: {@link org.ipi4j.time.Timeline}, the clock, parking, spinning and cost
 * hooks every layer waits through, the host's ({@link org.ipi4j.time.Timeline#real()}) or a
 * simulation's. The seam between the library and the host it runs on. A leaf package.
 */
package org.ipi4j.time;
