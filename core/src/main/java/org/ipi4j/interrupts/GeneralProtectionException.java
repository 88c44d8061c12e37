package org.ipi4j.interrupts;

/** #GP (vector 13): a privileged instruction was executed in {@link Mode#USER}. */
public final class GeneralProtectionException extends CpuException {
    private static final long serialVersionUID = 1L;

    /**
     * A #GP raised by core {@code cpu} at instruction {@code epc}, saying why in {@code message}.
     *
     * @param cpu the core's id
     * @param epc the index of the faulting instruction
     * @param message what was wrong
     */
    public GeneralProtectionException(final int cpu, final long epc, final String message) {
        super(Vector.GENERAL_PROTECTION, cpu, epc, message);
    }
}
