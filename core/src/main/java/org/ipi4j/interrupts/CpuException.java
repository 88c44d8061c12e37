package org.ipi4j.interrupts;

/**
 * A synchronous exception raised by a core on itself (vectors 0–31), precise at the faulting
 * instruction: {@link #epc()} is that instruction's index, and nothing after it has executed.
 */
public class CpuException extends Ipi4jException {
    private static final long serialVersionUID = 1L;

    /** The core that raised it. */
    private final int cpu;
    private final transient Vector vector;
    /** Index of the faulting instruction. */
    private final long epc;

    /**
     * An exception {@code vector} raised by core {@code cpu} at instruction {@code epc}.
     *
     * @param vector the interrupt vector
     * @param cpu the core's id, 0 to the machine's core count - 1
     * @param epc the index of the instruction
     * @param message the detail message
     */
    public CpuException(final Vector vector, final int cpu, final long epc, final String message) {
        super(vector + " on core " + cpu + " at epc " + epc + ": " + message);
        this.vector = vector;
        this.cpu = cpu;
        this.epc = epc;
    }

    /** {@return the exception vector (13, 14, ...)} */
    public Vector vector() {
        return vector;
    }

    /** {@return the core that raised it} */
    public int cpu() {
        return cpu;
    }

    /** {@return index of the faulting instruction} */
    public long epc() {
        return epc;
    }
}
