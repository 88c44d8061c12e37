package org.ipi4j.host;

import java.util.Locale;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * A real one-page TLB shootdown of the host's kernel, from user space: a page of this process's
 * own, mapped read-write, that threads on other CPUs keep reading ({@link #touch()}), so their TLBs
 * hold it; revoking the write right ({@link #revokeWrite()}, {@code mprotect(PROT_READ)}) makes the
 * kernel invalidate that entry on every CPU that may cache it before the call returns: IPIs
 * counted as {@code TLB} in {@code /proc/interrupts}. {@link #restoreWrite()} gives the right back
 * (a kernel may or may not shoot down for a right it adds). The host's version of ipi4j's
 * one-page shootdown, and its floor.
 *
 * <p>Linux only. {@link #open()} refuses, naming the {@code errno}, where the host will not map or
 * protect the page. {@link #touch()} from any thread; {@link #revokeWrite()} and
 * {@link #restoreWrite()} from one thread at a time; {@link #close()} once the touching threads
 * have stopped.
 */
public final class HostShootdown implements AutoCloseable {
    private final Pointer page;
    private final long size;
    private boolean closed;

    private HostShootdown(final Pointer page, final long size) {
        this.page = page;
        this.size = size;
    }

    /**
     * Maps one private anonymous page, read-write, and writes to it once (so it is backed).
     *
     * @return the page, ready to be touched and protected
     * @throws HostCallRefusedException where the host refuses the mapping or the protection
     */
    public static HostShootdown open() throws HostCallRefusedException {
        final String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).contains("linux")) {
            throw new HostCallRefusedException("mprotect shootdown: Linux only, this host runs " + os);
        }
        final long size;
        final Pointer p;
        try {
            size = LibC.C.sysconf(LibC.SC_PAGESIZE);
            p = LibC.C.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS, -1, 0);
        } catch (UnsatisfiedLinkError e) {
            throw new HostCallRefusedException("mmap refused: " + e.getMessage());
        }
        if (p == null || Pointer.nativeValue(p) == -1L) {
            throw new HostCallRefusedException("mmap of one page refused: " + Errno.name(Native.getLastError()));
        }
        p.setByte(0, (byte) 1);
        final HostShootdown s = new HostShootdown(p, size);
        if (LibC.C.mprotect(p, size, LibC.PROT_READ) != 0) {
            final int errno = Native.getLastError();
            LibC.C.munmap(p, size);
            throw new HostCallRefusedException("mprotect(PROT_READ) of one page refused: " + Errno.name(errno));
        }
        s.restoreWrite();
        return s;
    }

    /** {@return the page's first byte} Reading it puts the page's TLB entry on this CPU. Any thread, while the page is open. */
    public byte touch() {
        return page.getByte(0);
    }

    /** Revokes the write right: returns once no CPU's TLB can still let a write through. */
    public void revokeWrite() {
        protect(LibC.PROT_READ, "PROT_READ");
    }

    /** Gives the write right back. */
    public void restoreWrite() {
        protect(LibC.PROT_READ | LibC.PROT_WRITE, "PROT_READ|PROT_WRITE");
    }

    private void protect(final int prot, final String what) {
        if (LibC.C.mprotect(page, size, prot) != 0) {
            throw new IllegalStateException("mprotect(" + what + ") failed after it had worked: "
                + Errno.name(Native.getLastError()));
        }
    }

    /** Unmaps the page. Idempotent; no thread may touch it after. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.C.munmap(page, size);
        }
    }
}
