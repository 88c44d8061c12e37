package org.ipi4j.interrupts;

/**
 * #PF (vector 14): a translation found no present mapping, or one without the right for the
 * access. Precise: {@link #epc()} is the faulting load or store, which has not happened.
 */
public final class PageFaultException extends CpuException {
    private static final long serialVersionUID = 1L;

    /** The faulting virtual address. */
    private final long address;
    /** True for a store. */
    private final boolean write;

    /**
     * A #PF on core {@code cpu} at instruction {@code epc}, accessing {@code address}.
     *
     * @param cpu the core's id
     * @param epc the index of the faulting instruction
     * @param address the virtual address
     * @param write true for a store
     * @param why what was missing
     */
    public PageFaultException(final int cpu, final long epc, final long address, final boolean write, final String why) {
        super(Vector.PAGE_FAULT, cpu, epc, (write ? "write to " : "read from ") + "address " + address + ": " + why);
        this.address = address;
        this.write = write;
    }

    /** {@return the faulting virtual address} */
    public long address() {
        return address;
    }

    /** {@return true if the access was a store} */
    public boolean write() {
        return write;
    }
}
