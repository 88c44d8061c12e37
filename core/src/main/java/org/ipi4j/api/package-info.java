/**
 * What the API promises, said in the code: {@link org.ipi4j.api.InternalApi} marks what is public
 * only for ipi4j's own packages. A leaf: it depends on no other package of ipi4j, so every layer
 * may mark its internals.
 */
package org.ipi4j.api;
