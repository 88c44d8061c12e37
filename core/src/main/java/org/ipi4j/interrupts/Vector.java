package org.ipi4j.interrupts;

/**
 * An interrupt vector, 0 to 255, as on x86.
 *
 * <p>Vectors 0–31 are reserved for exceptions a core raises on itself (for example
 * {@link #GENERAL_PROTECTION} 13 and {@link #PAGE_FAULT} 14); they can neither be sent as
 * inter-processor interrupts nor registered with an {@link InterruptHandler}. Vectors 32–255
 * are for IPIs. The library claims {@link #CALL_FUNCTION} (cross-core calls, which TLB shootdown
 * also rides on, as in Linux) and {@link #RESCHEDULE} for itself; any other vector from 32 up is
 * free for applications.
 *
 * <p>The priority class of a vector is {@code vector >> 4}. When several vectors are pending
 * on a core, the highest vector (and so the highest class) is taken first, as a local APIC
 * does.
 *
 * <p>Instances are interned: {@code Vector.of(n) == Vector.of(n)}. Immutable and thread-safe.
 */
public final class Vector implements Comparable<Vector> {
    /** Number of vectors. */
    public static final int COUNT = 256;
    /** First vector that may be used for inter-processor interrupts. */
    public static final int FIRST_IPI = 32;

    private static final Vector[] VECTORS = new Vector[COUNT];

    static {
        for (int i = 0; i < COUNT; i++) {
            VECTORS[i] = new Vector(i);
        }
    }

    /** Exception 13: a privileged instruction executed in user mode. */
    public static final Vector GENERAL_PROTECTION = VECTORS[13];
    /** Exception 14: a translation found no present mapping, or one without the access right. */
    public static final Vector PAGE_FAULT = VECTORS[14];
    /** Claimed by the smp layer for cross-core function calls. */
    public static final Vector CALL_FUNCTION = VECTORS[0xFC];
    /** Claimed by the machine to wake an idle core that was given work. */
    public static final Vector RESCHEDULE = VECTORS[0xFD];

    private final int number;

    private Vector(final int number) {
        this.number = number;
    }

    /**
     * The vector with this number.
     *
     * @param number the vector number, 0 to 255
     * @return the vector
     * @throws IllegalArgumentException if {@code number} is outside 0–255
     */
    public static Vector of(final int number) {
        if (number < 0 || number >= COUNT) {
            throw new IllegalArgumentException("vector " + number + " is outside 0-255");
        }
        return VECTORS[number];
    }

    /** {@return the vector number, 0–255} */
    public int number() {
        return number;
    }

    /** {@return {@code number >> 4}: higher classes are taken first} */
    public int priorityClass() {
        return number >> 4;
    }

    /** {@return true for 0–31, the vectors reserved for exceptions} */
    public boolean isException() {
        return number < FIRST_IPI;
    }

    @Override
    public int compareTo(final Vector other) {
        return Integer.compare(number, other.number);
    }

    /**
     * {@return how every message, report and {@link Oops} prints this vector: a vector the library
     * names by its name and number ({@code #GP(13)}, {@code #PF(14)}, {@code CALL_FUNCTION(0xfc)},
     * {@code RESCHEDULE(0xfd)}), any other by its number in hex ({@code 0x40})}
     */
    @Override
    public String toString() {
        return switch (number) {
            case 13 -> "#GP(13)";
            case 14 -> "#PF(14)";
            case 0xFC -> "CALL_FUNCTION(0xfc)";
            case 0xFD -> "RESCHEDULE(0xfd)";
            default -> String.format("0x%02x", number);
        };
    }
}
