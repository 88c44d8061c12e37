package org.ipi4j.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Vector;
import org.jctools.queues.MpscArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Mailbox throughput with several senders (2 by default; {@code -t 1} for one): ipi4j's send
 * (payload into the target's JCTools MPSC mailbox plus the pending bit, drained by a core) next to
 * two floors drained by a plain spinning thread: the raw JCTools queue it is built on, and that
 * queue with the smallest possible doorbell (a flag the sender sets with test-and-set when it finds
 * it clear, and the consumer clears between two drains), which is the cheapest design that tells a
 * receiver "look at this mailbox". Senders back off when the consumer falls behind.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
@Threads(2)
@State(Scope.Benchmark)
public class MailboxBench {
    private static final Vector V = Vector.of(0x40);
    private static final Object PAYLOAD = new Object();

    @Param({"ipi4j-send", "jctools-doorbell", "jctools-raw"})
    public String path;

    private Machine machine;
    private MpscArrayQueue<Object> raw;
    private final AtomicInteger doorbell = new AtomicInteger();
    private boolean rings;
    private Thread drainer;
    private volatile boolean running;
    final AtomicLong consumed = new AtomicLong();

    @Setup(Level.Trial)
    public void setUp() {
        running = true;
        if (path.equals("ipi4j-send")) {
            machine = Machine.builder().cores(1).idlePolicy(IdlePolicy.spin()).pinning(Pinning.BEST_EFFORT)
                .mailboxCapacity(1 << 16).overflowPolicy(OverflowPolicy.BLOCK).build().start();
            machine.interrupts().register(V, irq -> consumed.addAndGet(irq.payloads().size()));
        } else {
            raw = new MpscArrayQueue<>(1 << 16);
            rings = path.equals("jctools-doorbell");
            drainer = new Thread(() -> {
                while (running) {
                    int n;
                    if (!rings) {
                        n = raw.drain(p -> { }, 4096);
                    } else if (doorbell.get() != 0) {
                        n = raw.drain(p -> { }, 1 << 16);
                        doorbell.set(0); // then look again: a sender that saw the bell set offered before
                        Object p;
                        while ((p = raw.poll()) != null) {
                            n++;
                        }
                    } else {
                        n = 0;
                    }
                    if (n == 0) {
                        Thread.onSpinWait();
                    } else {
                        consumed.addAndGet(n);
                    }
                }
            }, path + "-drainer");
            drainer.setDaemon(true);
            drainer.start();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        running = false;
        if (machine != null) {
            machine.close();
        } else {
            drainer.join();
        }
    }

    @Benchmark
    public void send() {
        if (machine != null) {
            machine.interrupts().send(0, V, PAYLOAD);
        } else {
            while (!raw.offer(PAYLOAD)) {
                Thread.onSpinWait();
            }
            if (rings && doorbell.get() == 0) {
                doorbell.getAndSet(1);
            }
        }
    }
}
