package org.ipi4j.host;

/**
 * The host would not make one of its IPIs or shootdowns for us: not Linux, an architecture whose
 * system call numbers this module does not know, a kernel without the call, or a sandbox that
 * forbids it. The message names the call and the {@code errno} (or the reason there was no call).
 */
public final class HostCallRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    HostCallRefusedException(final String message) {
        super(message);
    }
}
