package org.ipi4j.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The host's own IPI and shootdown, where the host makes them: each is skipped only with the
 * refusal's reason, and where it runs, the host's interrupt counts show the interrupts it caused.
 */
@Timeout(60)
class HostFloorsTest {
    @Test
    void anExpeditedBarrierWithAThreadSpinningElsewhereSendsTheHostsFunctionCallIpis() throws Exception {
        final HostIpi ipi;
        try {
            ipi = HostIpi.open();
        } catch (HostCallRefusedException e) {
            assertThat(e.getMessage()).containsPattern("membarrier.*(refused|Linux only|no system call|does not offer)");
            abort("the host refuses: " + e.getMessage());
            return;
        }
        final long rise;
        try (Spinner s = new Spinner(() -> { })) {
            s.started.await(10, TimeUnit.SECONDS);
            rise = riseDuring("CAL", () -> {
                for (int i = 0; i < 1000; i++) {
                    ipi.roundTrip();
                }
            });
        }
        if (rise >= 0) {
            // While a thread of ours ran on the other CPU, a barrier is an IPI to it.
            assertThat(rise).as("CAL interrupts during batches of 1,000 barriers").isPositive();
        }
    }

    @Test
    void revokingTheWriteRightOfAPageOthersReadShootsItDown() throws Exception {
        final HostShootdown page;
        try {
            page = HostShootdown.open();
        } catch (HostCallRefusedException e) {
            assertThat(e.getMessage()).containsPattern("(mmap|mprotect).*(refused|Linux only)");
            abort("the host refuses: " + e.getMessage());
            return;
        }
        final long rise;
        try (page; Spinner s = new Spinner(page::touch)) {
            s.started.await(10, TimeUnit.SECONDS);
            rise = riseDuring("TLB", () -> {
                for (int i = 0; i < 500; i++) {
                    page.revokeWrite();
                    page.restoreWrite();
                }
            });
        }
        page.close(); // idempotent
        if (rise >= 0) {
            assertThat(rise).as("TLB shootdowns during batches of 500 revocations").isPositive();
        }
    }

    @Test
    void errnoValuesAreNamed() {
        assertThat(Errno.name(1)).isEqualTo("EPERM (1)");
        assertThat(Errno.name(38)).isEqualTo("ENOSYS (38)");
        assertThat(Errno.name(4242)).isEqualTo("errno 4242");
    }

    /** A thread of this process that keeps running (and doing {@code work}) until closed. */
    private static final class Spinner implements AutoCloseable {
        final CountDownLatch started = new CountDownLatch(1);
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Spinner(final Runnable work) {
            thread = new Thread(() -> {
                started.countDown();
                while (!stop.get()) {
                    work.run();
                    Thread.onSpinWait();
                }
            }, "host-floor-spinner");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }

    /** A batch of host calls. */
    private interface Batch {
        void run() throws Exception;
    }

    /**
     * Runs {@code batch} until the host's count of {@code kind} rose, for at most five seconds:
     * the spinner is on another CPU only while the scheduler keeps it there, and on this 2-CPU
     * host, busy with a build, one batch (about 20 ms) fell once wholly in a time the spinner
     * shared our CPU (CI saw no TLB shootdown in 500 revocations). {@return how much the count
     * rose, or -1 where it cannot be read}
     */
    private static long riseDuring(final String kind, final Batch batch) throws Exception {
        final long before = count(kind);
        if (before < 0) {
            batch.run(); // the calls must still work where the counts cannot be read
            return -1;
        }
        final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long after;
        do {
            batch.run();
            after = count(kind);
        } while (after - before <= 0 && System.nanoTime() - until < 0);
        return after < 0 ? -1 : after - before;
    }

    /** The host's count of {@code kind} over all CPUs, or -1 where it cannot be read. */
    private static long count(final String kind) {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/interrupts"))) {
                final String t = line.trim();
                if (t.startsWith(kind + ":")) {
                    long sum = 0;
                    for (final String f : t.substring(kind.length() + 1).trim().split("\\s+")) {
                        if (!f.chars().allMatch(Character::isDigit)) {
                            break;
                        }
                        sum += Long.parseLong(f);
                    }
                    return sum;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
