package org.ipi4j.interrupts;

/**
 * A synchronous exception raised by a core on itself (vectors 0–31), precise at the faulting
 * instruction: {@link #epc()} is that instruction's index, and nothing after it has executed.
 */
public class CpuException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int cpu;
    private final transient Vector vector;
    private final long epc;

    /** An exception {@code vector} raised by core {@code cpu} at instruction {@code epc}. */
    public CpuException(final Vector vector, final int cpu, final long epc, final String message) {
        super(vector + " on core " + cpu + " at epc " + epc + ": " + message);
        this.vector = vector;
        this.cpu = cpu;
        this.epc = epc;
    }

    /** The exception vector (13, 14, ...). */
    public Vector vector() {
        return vector;
    }

    /** The core that raised it. */
    public int cpu() {
        return cpu;
    }

    /** Index of the faulting instruction. */
    public long epc() {
        return epc;
    }
}
