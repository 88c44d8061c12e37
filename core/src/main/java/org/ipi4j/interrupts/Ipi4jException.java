package org.ipi4j.interrupts;

/**
 * The base class of every exception ipi4j throws for a condition of its own: a closed machine
 * ({@link MachineClosedException}), a full mailbox ({@link MailboxFullException}), a CPU
 * exception raised by an emulated core ({@link CpuException}), a cross-core call that failed or
 * timed out, a shutdown that was not clean. One {@code catch (Ipi4jException e)} covers them all.
 *
 * <p>Misuse is not reported this way: a null argument is a {@link NullPointerException} naming the
 * parameter, a value out of range an {@link IllegalArgumentException} naming it, and a call made
 * from the wrong thread or state an {@link IllegalStateException}, as in the JDK.
 */
public class Ipi4jException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with {@code message}.
     * @param message the detail message
     */
    public Ipi4jException(final String message) {
        super(message);
    }

    /**
     * An exception with {@code message} caused by {@code cause}.
     * @param message the detail message
     * @param cause the cause
     */
    public Ipi4jException(final String message, final Throwable cause) {
        super(message, cause);
    }
}
