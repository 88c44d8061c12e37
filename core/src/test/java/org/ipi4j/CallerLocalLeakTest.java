package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.Test;

/**
 * A machine that an outside thread used (a page mapped, so a shootdown begun) must be collectable
 * once it has shut down, while that thread lives on (a thread pool's worker, a test runner).
 *
 * <p>It was not (found by the exploration's 10^5-seed run): {@link CallerLocal} kept the outside thread's object in a {@code ThreadLocal}
 * whose value, the MMU's reusable {@code Shootdown}, reaches the {@code Mmu} that owns the
 * {@code CallerLocal}, and so the {@code ThreadLocal} itself: the entry's weak key never clears,
 * and the whole machine (its cores' mailboxes, histograms, threads' objects) stays on the heap for
 * the thread's life. ({@code SmpCall}'s per-thread {@code Call} holds only the timeline, so a
 * waited call alone does not leak.) Seen as an OutOfMemoryError in a 10^5-seed run of {@code ExplorationTest}
 * on one worker pool (about 20,000 machines, 4.5 GB of {@code long[]}, retained after 20,000
 * runs); {@code SimulatedSafetyTest} with {@code -DargLine=-Xmx200m} fails the same way. The
 * control shows the root: the same use from a thread that ends leaves the machine collectable.
 * Fixed: an outside thread's object is now held through a weak reference.
 */
class CallerLocalLeakTest {

    @Test
    void aShutDownMachineUsedFromALiveOutsideThreadIsCollectable() {
        final WeakReference<Machine> machine = useAndShutDown();
        assertThat(collected(machine)).as("the machine is garbage once shut down, though this thread lives on").isTrue();
    }

    @Test
    void controlAMachineUsedFromAThreadThatEndedIsCollectable() throws Exception {
        final AtomicReference<WeakReference<Machine>> machine = new AtomicReference<>();
        final Thread t = new Thread(() -> machine.set(useAndShutDown()), "outside-caller");
        t.start();
        t.join();
        assertThat(collected(machine.get())).as("the machine is garbage once its outside caller ended").isTrue();
    }

    /** A page mapped from the calling (outside) thread, then shutdown; only a weak reference stays. */
    private static WeakReference<Machine> useAndShutDown() {
        final Machine m = Machine.builder().cores(2).memoryWords(1024).build().start();
        final Mmu mmu = Mmu.builder(SmpCall.install(m)).build();
        final AddressSpace as = mmu.newAddressSpace(4);
        as.map(0, 1, Pte.READ | Pte.WRITE); // begins a shootdown: the MMU's per-thread Shootdown
        assertThat(m.shutdown(Duration.ofSeconds(5)).isClean()).isTrue();
        return new WeakReference<>(m);
    }

    private static boolean collected(final WeakReference<Machine> ref) {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return ref.get() == null;
    }
}
