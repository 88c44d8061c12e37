package org.ipi4j.interrupts;

/**
 * #PF (vector 14): a translation found no present mapping, or one without the right for the
 * access. Precise: {@link #epc()} is the faulting load or store, which has not happened.
 */
public final class PageFaultException extends CpuException {
    private static final long serialVersionUID = 1L;

    private final long address;
    private final boolean write;

    public PageFaultException(final int cpu, final long epc, final long address, final boolean write, final String why) {
        super(Vector.PAGE_FAULT, cpu, epc, (write ? "write to " : "read from ") + "address " + address + ": " + why);
        this.address = address;
        this.write = write;
    }

    /** The faulting virtual address. */
    public long address() {
        return address;
    }

    /** True if the access was a store. */
    public boolean write() {
        return write;
    }
}
