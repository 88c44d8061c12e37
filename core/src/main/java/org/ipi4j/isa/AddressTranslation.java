package org.ipi4j.isa;

/**
 * Turns a program's addresses into physical word addresses, on the core that executes the
 * access. Implemented by the mm layer (page tables and per-core TLBs); without one a program's
 * addresses are physical.
 */
public interface AddressTranslation {
    /**
     * The physical address for {@code address} on core {@code cpu}.
     *
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param address the address the instruction accesses, virtual
     * @param epc   index of the accessing instruction, for a precise fault
     * @param write true for a store
     * @return the physical address
     * @throws org.ipi4j.interrupts.CpuException (a page fault) if the access is not allowed
     */
    long translate(int cpu, long epc, long address, boolean write);

    /**
     * The access that the last {@link #translate} on core {@code cpu} was for is done (it may have
     * failed). The interpreter calls it after every translated access, in a finally block: an
     * implementation that brackets translations against invalidation from other threads (the MMU's
     * broadcast invalidation) closes the bracket here, so that the load or store itself is inside
     * it. Abstract, not a default, so that a wrapper around another translation (to count or log
     * accesses) cannot drop the inner one's close by accident: delegate it.
     *
     * @param cpu the core's id
     */
    void endAccess(int cpu);

    /** {@return the identity: a program's addresses are physical} */
    static AddressTranslation physical() {
        return Physical.INSTANCE;
    }

    /** The identity translation. */
    final class Physical implements AddressTranslation {
        private static final Physical INSTANCE = new Physical();

        private Physical() {
        }

        @Override
        public long translate(final int cpu, final long epc, final long address, final boolean write) {
            return address;
        }

        @Override
        public void endAccess(final int cpu) {
        }
    }
}
