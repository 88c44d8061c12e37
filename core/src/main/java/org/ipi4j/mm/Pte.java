package org.ipi4j.mm;

/**
 * A page-table entry: a physical frame number and its rights. Stored in the page table as one
 * {@code long}, so it is published and read atomically. Immutable.
 *
 * @param frame   physical frame number
 * @param perms   {@link #READ} | {@link #WRITE} | {@link #EXEC}
 * @param present false for an unmapped page
 */
public record Pte(long frame, int perms, boolean present) {
    /** Right to read. */
    public static final int READ = 1;
    /** Right to write. */
    public static final int WRITE = 2;
    /** Right to execute. */
    public static final int EXEC = 4;
    /** The encoding of an unmapped page. */
    public static final long NOT_PRESENT = 0L;

    static long encode(final long frame, final int perms) {
        return frame << 8 | (long) (perms & 7) << 1 | 1L;
    }

    static boolean present(final long raw) {
        return (raw & 1L) != 0;
    }

    static int perms(final long raw) {
        return (int) (raw >>> 1) & 7;
    }

    static long frame(final long raw) {
        return raw >>> 8;
    }

    static boolean allows(final long raw, final boolean write) {
        return present(raw) && (perms(raw) & (write ? WRITE : READ)) != 0;
    }

    static Pte decode(final long raw) {
        return new Pte(frame(raw), perms(raw), present(raw));
    }

    /** {@return true if a read is allowed} */
    public boolean readable() {
        return present && (perms & READ) != 0;
    }

    /** {@return true if a write is allowed} */
    public boolean writable() {
        return present && (perms & WRITE) != 0;
    }

    @Override
    public String toString() {
        if (!present) {
            return "pte[not present]";
        }
        return "pte[frame " + frame + " " + ((perms & READ) != 0 ? "r" : "-") + ((perms & WRITE) != 0 ? "w" : "-")
            + ((perms & EXEC) != 0 ? "x" : "-") + "]";
    }
}
