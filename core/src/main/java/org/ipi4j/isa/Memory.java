package org.ipi4j.isa;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The machine's physical memory: an array of 64-bit words shared by all cores.
 *
 * <p>{@link #load}/{@link #store} are opaque accesses: never torn, never hoisted out of an
 * interpreter loop, but with no ordering against other addresses, so a racing reader may see
 * them late or out of order, like plain stores on a weakly ordered CPU. {@link #loadAcquire}
 * and {@link #storeRelease} carry acquire/release semantics. Thread-safe.
 */
public final class Memory {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] words;

    /**
     * Physical memory of {@code size} 64-bit words, all zero.
     *
     * @param size the number of words
     */
    public Memory(final int size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative memory size " + size);
        }
        this.words = new long[size];
    }

    /** {@return number of words} */
    public int size() {
        return words.length;
    }

    private int index(final long address) {
        if (address < 0 || address >= words.length) {
            throw new IndexOutOfBoundsException("address " + address + " outside memory of " + words.length + " words");
        }
        return (int) address;
    }

    /**
     * A plain load.
     *
     * @param address the word's address
     * @return its value
     * @throws IndexOutOfBoundsException outside memory
     */
    public long load(final long address) {
        return (long) WORDS.getOpaque(words, index(address));
    }

    /**
     * A plain store.
     *
     * @param address the word's address
     * @param value the value
     * @throws IndexOutOfBoundsException outside memory
     */
    public void store(final long address, final long value) {
        WORDS.setOpaque(words, index(address), value);
    }

    /**
     * A load with acquire semantics: pairs with {@link #storeRelease}.
     *
     * @param address the word's address
     * @return its value
     * @throws IndexOutOfBoundsException outside memory
     */
    public long loadAcquire(final long address) {
        return (long) WORDS.getAcquire(words, index(address));
    }

    /**
     * A store with release semantics: pairs with {@link #loadAcquire}.
     *
     * @param address the word's address
     * @param value the value
     * @throws IndexOutOfBoundsException outside memory
     */
    public void storeRelease(final long address, final long value) {
        WORDS.setRelease(words, index(address), value);
    }
}
