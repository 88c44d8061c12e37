package org.ipi4j.host;

/** The names of the {@code errno} values a refused host call gives (Linux numbering). */
final class Errno {
    private Errno() {
    }

    /** {@return e.g. {@code "EPERM (1)"}; an unnamed value as {@code "errno 95"}} */
    static String name(final int errno) {
        final String n = switch (errno) {
            case 1 -> "EPERM";
            case 9 -> "EBADF";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 14 -> "EFAULT";
            case 22 -> "EINVAL";
            case 38 -> "ENOSYS";
            case 95 -> "EOPNOTSUPP";
            default -> null;
        };
        return n == null ? "errno " + errno : n + " (" + errno + ")";
    }
}
