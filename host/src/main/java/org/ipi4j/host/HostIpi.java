package org.ipi4j.host;

import java.util.Locale;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * A real IPI round trip of the host's kernel, from user space: {@code membarrier(2)} with
 * {@code MEMBARRIER_CMD_PRIVATE_EXPEDITED} interrupts every other CPU that is running a thread of
 * this process (an IPI whose handler runs a full memory barrier there) and returns once each has
 * run it. With one other thread of the process spinning on another CPU, one call is one IPI sent,
 * taken and acknowledged: the host's own version of a waited cross-core call to a spinning core,
 * and the floor under ipi4j's emulated one. Linux counts those IPIs as {@code CAL} in
 * {@code /proc/interrupts}.
 *
 * <p>{@link #open()} registers the process for the expedited command once (a kernel since 4.14
 * has it) and refuses, naming the {@code errno}, where the host will not. Thread-safe: any
 * thread may call {@link #roundTrip()}.
 */
public final class HostIpi {
    private static final int CMD_QUERY = 0;
    private static final int CMD_PRIVATE_EXPEDITED = 1 << 3;
    private static final int CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    private final long syscall;

    private HostIpi(final long syscall) {
        this.syscall = syscall;
    }

    /**
     * Registers this process for expedited private barriers.
     *
     * @return a host IPI ready to send
     * @throws HostCallRefusedException where the host has no such call or refuses it
     */
    public static HostIpi open() throws HostCallRefusedException {
        final long nr = membarrierNumber();
        final long supported = call(nr, CMD_QUERY, "membarrier(QUERY)");
        if ((supported & CMD_PRIVATE_EXPEDITED) == 0) {
            throw new HostCallRefusedException("membarrier: this kernel does not offer PRIVATE_EXPEDITED (supported mask 0x"
                + Long.toHexString(supported) + ")");
        }
        call(nr, CMD_REGISTER_PRIVATE_EXPEDITED, "membarrier(REGISTER_PRIVATE_EXPEDITED)");
        final HostIpi ipi = new HostIpi(nr);
        call(nr, CMD_PRIVATE_EXPEDITED, "membarrier(PRIVATE_EXPEDITED)"); // once, so a refusal shows here
        return ipi;
    }

    /**
     * One expedited barrier: returns once every other CPU running a thread of this process took
     * the host's IPI and ran its barrier. A full fence between the caller and those threads, as the
     * kernel documents it.
     */
    public void roundTrip() {
        final long r = LibC.C.syscall(syscall, CMD_PRIVATE_EXPEDITED, 0, 0);
        if (r < 0) {
            throw new IllegalStateException("membarrier(PRIVATE_EXPEDITED) failed after it had worked: "
                + Errno.name(Native.getLastError()));
        }
    }

    private static long call(final long nr, final int cmd, final String what) throws HostCallRefusedException {
        final long r;
        try {
            r = LibC.C.syscall(nr, cmd, 0, 0);
        } catch (LastErrorException | UnsatisfiedLinkError e) {
            throw new HostCallRefusedException(what + " refused: " + e.getMessage());
        }
        if (r < 0) {
            throw new HostCallRefusedException(what + " refused: " + Errno.name(Native.getLastError()));
        }
        return r;
    }

    /** The number of {@code membarrier} on this architecture: it differs between them. */
    private static long membarrierNumber() throws HostCallRefusedException {
        final String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
            throw new HostCallRefusedException("membarrier: Linux only, this host runs " + os);
        }
        final String arch = System.getProperty("os.arch", "");
        return switch (arch) {
            case "amd64", "x86_64" -> 324;
            case "aarch64", "riscv64" -> 283;
            default -> throw new HostCallRefusedException("membarrier: no system call number known for " + arch);
        };
    }
}
