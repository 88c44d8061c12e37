package org.ipi4j.interrupts;

/** Privilege level of a core. Privileged instructions in {@link #USER} raise #GP. */
public enum Mode {
    /** Unprivileged: no interrupt masking, no IPIs from the instruction stream. */
    USER,
    /** Privileged: handlers and Java tasks run here. */
    KERNEL
}
