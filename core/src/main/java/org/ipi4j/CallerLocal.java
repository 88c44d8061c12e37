package org.ipi4j;

import java.lang.ref.WeakReference;
import java.util.Objects;
import java.util.function.Supplier;

import org.ipi4j.api.InternalApi;

/**
 * One object per caller of a machine's service: one per core of the machine, and one per outside
 * thread. The layers built on the machine keep their reusable per-call state here (a waited
 * cross-core call, a shootdown), so that a steady stream of calls allocates nothing. A caller that
 * cannot be sure nobody else still holds its object (a call that timed out stays queued on its
 * target) {@link #abandon}s it and gets a fresh one next time.
 *
 * <p>An outside thread's object is held through a weak reference: it usually reaches the layer
 * that owns this {@code CallerLocal} (the MMU's shootdown reaches the MMU), and so the
 * {@code ThreadLocal} itself, which would keep the thread's entry, and the whole machine with it,
 * alive for the thread's life after the machine shut down. So the object may be collected between
 * two calls of the thread; the next call makes a new one (steady state allocates nothing between
 * collections). A core's object lives as long as the machine.
 *
 * <p>Thread-safety: each object is handed only to its own caller; {@link #get()} and
 * {@link #abandon} act on the calling core's or thread's slot, so no two threads share a slot.
 */
@InternalApi
public final class CallerLocal<T> {
    private final Machine machine;
    private final Supplier<? extends T> factory;
    private final Object[] perCore;
    private final ThreadLocal<WeakReference<T>> perThread = new ThreadLocal<>();

    /**
     * Objects made by {@code factory}: one per core of {@code machine} now, one per outside thread when it first asks.
     *
     * @param machine the machine
     * @param factory makes the object
     */
    public CallerLocal(final Machine machine, final Supplier<? extends T> factory) {
        this.machine = Objects.requireNonNull(machine, "machine");
        this.factory = Objects.requireNonNull(factory, "factory");
        this.perCore = new Object[machine.coreCount()];
        for (int i = 0; i < perCore.length; i++) {
            perCore[i] = factory.get();
        }
    }

    /** {@return the calling core's object, or the calling outside thread's} */
    @SuppressWarnings("unchecked")
    public T get() {
        final Core self = machine.currentCore();
        return self != null ? (T) perCore[self.id()] : threadsObject();
    }

    private T threadsObject() {
        final WeakReference<T> ref = perThread.get();
        final T t = ref == null ? null : ref.get();
        return t != null ? t : fresh();
    }

    private T fresh() {
        final T t = factory.get();
        perThread.set(new WeakReference<>(t));
        return t;
    }

    /**
     * Replaces the caller's object by a fresh one, if {@code used} is still it: someone else may still hold it.
     *
     * @param used the object the caller got from {@link #get()}
     */
    public void abandon(final T used) {
        final Core self = machine.currentCore();
        if (self != null) {
            if (perCore[self.id()] == used) {
                perCore[self.id()] = factory.get();
            }
        } else {
            final WeakReference<T> ref = perThread.get();
            if (ref != null && ref.get() == used) {
                fresh();
            }
        }
    }
}
