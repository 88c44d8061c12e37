package org.ipi4j;

import java.util.concurrent.ThreadFactory;

/**
 * Which owner, if any, the calling thread was made for: how {@link Core#current()} knows its
 * core. A thread this class makes itself is a daemon {@code Thread} subclass that carries its
 * owner, found with one type check and a field read (no {@code ThreadLocal} lookup on the path of
 * every cross-core call); a thread a user's {@link ThreadFactory} makes sets a {@code ThreadLocal}
 * itself before it runs as its owner, and other threads look there only once such a thread ran.
 *
 * <p>Generic so that it names no core: {@code Core} reads it, and a file {@code Core} names must not
 * name {@code Core} back (the root package's files form no cycle).
 *
 * <p>Thread-safety: {@link #current()} takes any thread. The flag that lets other threads skip
 * the {@code ThreadLocal} is a plain field: a factory-made thread sets it (and its
 * {@code ThreadLocal} slot) itself before it runs as an owner's, so it always sees its own writes;
 * any other thread reading a stale false is no owner's thread, and null is its right answer.
 *
 * @param <T> the owner's type
 */
final class ThreadOwner<T> {
    /** The owner of a thread made by a user's factory; unused otherwise. */
    private final ThreadLocal<T> factoryThreadOwner = new ThreadLocal<>();
    /** True once any owner's body ran on a factory-made thread: other threads skip the ThreadLocal until then. */
    private boolean factoryThreads;

    /** {@return the owner the calling thread was made for, or null if it is nobody's} */
    @SuppressWarnings("unchecked") // sound: only this instance's maker, given a T, makes an OwnedThread of it
    T current() {
        if (Thread.currentThread() instanceof OwnedThread t && t.owners == this) {
            return (T) t.owner;
        }
        return factoryThreads ? factoryThreadOwner.get() : null;
    }

    /**
     * A maker of {@code owner}'s thread: a daemon thread named {@code name}, or, when
     * {@code factory} is not null, the factory's thread, which is {@code owner}'s while the body runs.
     */
    ThreadFactory maker(final T owner, final String name, final ThreadFactory factory) {
        return factory == null ? body -> new OwnedThread(this, owner, name, body)
            : body -> factory.newThread(() -> runAs(owner, body));
    }

    private void runAs(final T owner, final Runnable body) {
        factoryThreadOwner.set(owner);
        factoryThreads = true;
        try {
            body.run();
        } finally {
            factoryThreadOwner.remove();
        }
    }

    private static final class OwnedThread extends Thread {
        final ThreadOwner<?> owners;
        final Object owner;

        OwnedThread(final ThreadOwner<?> owners, final Object owner, final String name, final Runnable body) {
            super(body, name);
            this.owners = owners;
            this.owner = owner;
            setDaemon(true); // a stuck core must not keep the JVM alive; shutdown reports it
        }
    }
}
