package org.ipi4j.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The C library calls this module makes, bound once through JNA. JNA keeps each call's
 * {@code errno} ({@link Native#getLastError()}), which is how a refusal is named.
 */
interface LibC extends Library {
    LibC C = Native.load("c", LibC.class);

    int PROT_READ = 0x1;
    int PROT_WRITE = 0x2;
    int MAP_PRIVATE = 0x02;
    int MAP_ANONYMOUS = 0x20;
    int SC_PAGESIZE = 30;

    long syscall(long number, Object... args);

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    int mprotect(Pointer addr, long length, int prot);

    int munmap(Pointer addr, long length);

    long sysconf(int name);
}
