package org.ipi4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.host.HostCallRefusedException;
import org.ipi4j.host.HostIpi;
import org.ipi4j.host.HostShootdown;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.mm.Pte;
import org.ipi4j.smp.CoreAction;
import org.ipi4j.smp.SmpCall;

/*
 * The fields every round trip touches, each on lines of its own (JCTools' padding by inheritance:
 * a superclass's fields are laid out before a subclass's). Left to the JVM, the caller's seq, the
 * responder's ack and the running flag every responder loop reads shared one or two lines as the
 * object's address fell, so each trial of a variant measured a different layout: the raw spin
 * floor's median moved between about 0.2 and 0.4 us from one trial to the next with the same
 * code. 128 bytes, not 64: the adjacent-line prefetcher pulls lines in pairs.
 */

/** Padding before the acknowledgement: no earlier object's fields share its lines. */
abstract class RoundTripPad0 {
    long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
}

/** The responder's acknowledgement: written by the responder, spun on by the caller. */
abstract class RoundTripAck extends RoundTripPad0 {
    /** Written by the responder (release), read by the caller's spin in {@link RoundTrip#roundTrip} (acquire). */
    protected volatile long ack;
}

/** Padding between the acknowledgement and the running flag. */
abstract class RoundTripPad1 extends RoundTripAck {
    long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
}

/** The flag the responders' loops read on every turn: written once, by close. */
abstract class RoundTripRunning extends RoundTripPad1 {
    /** Written once by {@link RoundTrip#close} (release), read by every responder loop (acquire). */
    protected volatile boolean running = true;
}

/** Padding between the running flag and the caller's own fields. */
abstract class RoundTripPad2 extends RoundTripRunning {
    long r00, r01, r02, r03, r04, r05, r06, r07, r08, r09, r10, r11, r12, r13, r14, r15;
}

/**
 * One way of saying "run this on that thread and tell me when it is done", measured as a round
 * trip: the caller publishes a request, the responder notices it and acknowledges.
 *
 * <p>In every variant the caller waits for the acknowledgement the same way, by spinning on a
 * volatile, so the differences between variants are the receiving side's: how it waits for work
 * and how it is woken. Where the mechanism has an acknowledgement of its own (a waited call's
 * return, {@code Future.get}, a system call's return), that is the acknowledgement: the caller
 * sets the volatile itself once it returns, and the responder is not made to acknowledge twice.
 * The responder's threads are named by {@link #responderThreads()} so the lab can charge their
 * CPU time to each message.
 */
public abstract class RoundTrip extends RoundTripPad2 implements AutoCloseable {
    /** Which floor a variant is compared with. */
    public enum Floor { SPIN, PARK, NONE }

    private final String name;
    private final String family;
    private final Floor floor;
    protected final List<Thread> responders = new ArrayList<>();
    /** The caller's sequence number (the responder's acknowledgement of it is {@code ack}); after the padding. */
    protected long seq;

    protected RoundTrip(final String name, final String family, final Floor floor) {
        this.name = name;
        this.family = family;
        this.floor = floor;
    }

    public String name() {
        return name;
    }

    /** "floor", "ipi4j", "peer" or "host" (the host kernel's own mechanism, {@link #hostVariants()}). */
    public String family() {
        return family;
    }

    public Floor floor() {
        return floor;
    }

    /** Threads whose CPU time is the cost of waiting for and handling requests. */
    public List<Thread> responderThreads() {
        return responders;
    }

    /** Host CPU the responder is pinned to, or -1. */
    public int pinnedCpu() {
        return -1;
    }

    /** One request, returning once it was acknowledged. */
    public final void roundTrip() {
        final long s = ++seq;
        request(s);
        while (ack != s) {
            Thread.onSpinWait();
        }
    }

    protected abstract void request(long s);

    @Override
    public void close() {
        running = false;
        for (final Thread t : responders) {
            LockSupport.unpark(t);
        }
    }

    /** Daemon threads recorded as responders, for executors and disruptors that make their own. */
    protected ThreadFactory responderFactory(final String threadName) {
        return r -> {
            final Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            responders.add(t);
            return t;
        };
    }

    protected Thread start(final String threadName, final Runnable body) {
        final Thread t = new Thread(body, threadName);
        t.setDaemon(true);
        responders.add(t);
        t.start();
        return t;
    }

    /** Every variant, by name, in report order. */
    public static List<String> variants() {
        return List.of("floor-spin", "floor-park", "ipi-spin", "ipi-poll-10us", "ipi-poll-100us", "ipi-park",
            "ipi-park-pinned", "ipi-adaptive", "ipi-adaptive-yield", "call-spin", "call-park", "executor", "agrona-backoff", "disruptor-busyspin", "disruptor-blocking");
    }

    /**
     * The host's own mechanisms, made from user space ({@code org.ipi4j.host}): a real IPI round
     * trip ({@code membarrier}) and a real one-page TLB shootdown ({@code mprotect}), each with a
     * thread of ours running on another CPU, and {@code shootdown-spin}, ipi4j's one-page
     * shootdown measured the same way, their emulated peer. Not in {@link #variants()}: a host may
     * refuse the first two ({@link #refusal}); {@code lab trials} runs them where it does not.
     */
    public static List<String> hostVariants() {
        return List.of("host-ipi", "host-shootdown", "shootdown-spin");
    }

    /**
     * The bare protocol under ipi4j's IPI, {@code floor-irr}: the caller sets a pending bit with a
     * read-modify-write, the responder spins on the word, clears the bit with another and
     * acknowledges, and nothing else: no mailbox, no closing protocol, no idle loop, no handler
     * table. Between {@code floor-spin} (a store, a load) and {@code ipi-spin}, so {@code ipi-spin}
     * against it is what ipi4j's own code adds to the pending-bit protocol the emulation is built
     * on. And {@code floor-call}, the bare protocol under a waited cross-core call: the same bit,
     * rung only when a push onto the target's call list found it empty, the descriptor claimed by
     * the target with a CAS and answered by a decrement the caller spins on; {@code call-spin}
     * against it is what ipi4j's call code adds. Not in {@link #variants()}: {@code lab trials}
     * runs them beside the {@code ipi-} and {@code call-} variants to a spinning core.
     */
    public static List<String> protocolVariants() {
        return List.of("floor-irr", "floor-call");
    }

    /** {@return why this host will not run the named variant (the refused call and its errno), or empty} */
    public static Optional<String> refusal(final String variant) {
        try {
            switch (variant) {
                case "host-ipi" -> HostIpi.open();
                case "host-shootdown" -> HostShootdown.open().close();
                default -> {
                    return Optional.empty();
                }
            }
            return Optional.empty();
        } catch (HostCallRefusedException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * {@return the floor the named variant is compared with}, without starting it (the lab asks for
     * every variant when it schedules). {@code TrialsTest} checks it against each started variant's
     * own {@link #floor()}.
     */
    public static Floor floorOf(final String variant) {
        return switch (variant) {
            case "floor-spin", "floor-irr", "floor-call", "ipi-spin", "ipi-poll-10us", "ipi-poll-100us", "call-spin", "agrona-backoff",
                 "disruptor-busyspin", "host-ipi", "host-shootdown", "shootdown-spin" -> Floor.SPIN;
            case "floor-park", "ipi-park", "ipi-park-pinned", "ipi-adaptive", "ipi-adaptive-yield", "call-park", "executor",
                 "disruptor-blocking" -> Floor.PARK;
            default -> throw new IllegalArgumentException("unknown variant " + variant + "; known: " + variants()
                + ", " + hostVariants() + " and " + protocolVariants());
        };
    }

    /** A started round trip of the named variant. */
    public static RoundTrip create(final String variant) {
        return switch (variant) {
            case "floor-spin" -> new RawFloor(false);
            case "floor-park" -> new RawFloor(true);
            case "floor-irr" -> new PendingBitFloor();
            case "floor-call" -> new CallProtocolFloor();
            case "ipi-spin" -> new Ipi(variant, IdlePolicy.spin(), Floor.SPIN, Pinning.NONE);
            case "ipi-poll-10us" -> new Ipi(variant, IdlePolicy.poll(Duration.ofNanos(10_000)), Floor.SPIN, Pinning.NONE);
            case "ipi-poll-100us" -> new Ipi(variant, IdlePolicy.poll(Duration.ofNanos(100_000)), Floor.SPIN, Pinning.NONE);
            case "ipi-park" -> new Ipi(variant, IdlePolicy.park(), Floor.PARK, Pinning.NONE);
            case "ipi-park-pinned" -> new Ipi(variant, IdlePolicy.park(), Floor.PARK, Pinning.BEST_EFFORT);
            case "ipi-adaptive" -> new Ipi(variant, IdlePolicy.adaptive(), Floor.PARK, Pinning.NONE);
            case "ipi-adaptive-yield" -> new Ipi(variant, IdlePolicy.adaptive(100, 10), Floor.PARK, Pinning.NONE);
            case "call-spin" -> new CrossCall(variant, IdlePolicy.spin(), Floor.SPIN);
            case "call-park" -> new CrossCall(variant, IdlePolicy.park(), Floor.PARK);
            case "executor" -> new ExecutorPeer();
            case "agrona-backoff" -> new AgronaPeer();
            case "disruptor-busyspin" -> new DisruptorPeer(variant, new BusySpinWaitStrategy(), Floor.SPIN);
            case "disruptor-blocking" -> new DisruptorPeer(variant, new BlockingWaitStrategy(), Floor.PARK);
            case "host-ipi" -> new HostIpiPeer();
            case "host-shootdown" -> new HostShootdownPeer();
            case "shootdown-spin" -> new Shootdown();
            default -> throw new IllegalArgumentException("unknown variant " + variant + "; known: " + variants());
        };
    }

    /**
     * The floors: a raw responder thread that waits for a volatile request either by spinning
     * (the cache-line round trip) or by parking, woken by the caller's unpark (the
     * {@code LockSupport} round trip). Nothing else is on either path.
     */
    static final class RawFloor extends RoundTrip {
        private volatile long request;
        private final boolean parks;
        private final Thread responder;

        RawFloor(final boolean parks) {
            super(parks ? "floor-park" : "floor-spin", "floor", parks ? Floor.PARK : Floor.SPIN);
            this.parks = parks;
            responder = start(name() + "-responder", () -> {
                long seen = 0;
                while (running) {
                    final long r = request;
                    if (r != seen) {
                        seen = r;
                        ack = r;
                    } else if (parks) {
                        LockSupport.park(this);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
        }

        @Override
        protected void request(final long s) {
            request = s;
            if (parks) {
                LockSupport.unpark(responder);
            }
        }
    }

    /**
     * {@code floor-irr} ({@link #protocolVariants()}): one pending bit, set by the caller's
     * {@code getAndBitwiseOr} as {@code LocalApic.raise} sets an IRR bit, found by the responder's
     * volatile load, cleared by its {@code getAndBitwiseAnd} as {@code LocalApic.accept} clears
     * it, then acknowledged. The clear is the step {@code floor-spin} does not have: the responder
     * writes the line the caller writes next, one more transfer of it per round trip. The
     * responder counts the requests it saw (the caller waits for each acknowledgement before it
     * raises again, so the n-th is request n), on a line of its own.
     */
    static final class PendingBitFloor extends RoundTrip {
        /** The pending word's access, also {@code floor-call}'s. */
        static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);
        /** The pending word and the responder's count, each at {@code [PAD]} of an array with 128 bytes either side. */
        static final int PAD = 16;
        private final long[] pending = new long[2 * PAD + 1];
        private final long[] seen = new long[2 * PAD + 1];

        PendingBitFloor() {
            super("floor-irr", "floor", Floor.SPIN);
            start(name() + "-responder", () -> {
                while (running) {
                    // Volatile load; partner: the caller's RMW in request. Then the clear, as an accept's.
                    if (((long) WORD.getVolatile(pending, PAD) & 1L) != 0) {
                        WORD.getAndBitwiseAnd(pending, PAD, ~1L);
                        ack = ++seen[PAD];
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
        }

        @Override
        protected void request(final long s) {
            WORD.getAndBitwiseOr(pending, PAD, 1L);
        }
    }

    /**
     * {@code floor-call} ({@link #protocolVariants()}): the lines a waited call to one spinning core
     * cannot do without, and nothing else. The caller re-arms its one reusable descriptor (state
     * and the count of answers still missing, on the descriptor's line, as {@code Call.arm}
     * writes them), pushes it onto the target's list with a CAS ({@code CallQueue.push}), rings the
     * pending bit if the list was empty ({@code CallDelivery.enqueue}), and spins until the count
     * is 0 ({@code CallWait}). The responder, on the bit: clears it, takes the whole list
     * ({@code CallQueue.takeAll}), claims the descriptor with a CAS ({@code CallDescriptor.start}),
     * runs nothing, marks it answered and decrements the count ({@code Call.acknowledge}). Its
     * return is the acknowledgement, as {@code call-spin}'s is.
     */
    static final class CallProtocolFloor extends RoundTrip {
        /** The same pending word as {@code floor-irr}'s, at the same place of its array. */
        private static final VarHandle WORD = PendingBitFloor.WORD;
        private static final int PAD = PendingBitFloor.PAD;
        private static final VarHandle HEAD;
        private static final VarHandle STATE;
        private static final VarHandle REMAINING;
        private static final int QUEUED = 1;
        private static final int RUNNING = 2;
        private static final int ANSWERED = 3;

        static {
            try {
                final MethodHandles.Lookup l = MethodHandles.lookup();
                HEAD = l.findVarHandle(ListHeadField.class, "head", Descriptor.class);
                STATE = l.findVarHandle(DescriptorFields.class, "state", int.class);
                REMAINING = l.findVarHandle(DescriptorFields.class, "remaining", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /*
         * Padding by inheritance (the JVM lays a superclass's fields out first, and within one
         * class groups fields by size, so padding declared beside a field does not surround it).
         */

        /** 128 bytes before the descriptor's fields. */
        abstract static class DescriptorPad0 {
            long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
        }

        /** What caller and target write on every call, together, as in a {@code Call}'s first bytes. */
        abstract static class DescriptorFields extends DescriptorPad0 {
            Descriptor next;
            volatile int state;
            volatile int remaining;
        }

        /** The descriptor: its fields on one line of their own, 128 bytes of padding either side. */
        static final class Descriptor extends DescriptorFields {
            long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
        }

        /** 128 bytes before the list head. */
        abstract static class ListHeadPad0 {
            long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
        }

        /** The target's list head. */
        abstract static class ListHeadField extends ListHeadPad0 {
            volatile Descriptor head;
        }

        /** The list head on a line of its own, as {@code CallQueue}'s. */
        static final class ListHead extends ListHeadField {
            long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;
        }

        private final long[] pending = new long[2 * PAD + 1];
        private final ListHead list = new ListHead();
        private final Descriptor mine = new Descriptor();

        CallProtocolFloor() {
            super("floor-call", "floor", Floor.SPIN);
            start(name() + "-responder", () -> {
                while (running) {
                    // Volatile load; partner: the caller's RMW of the bit after its push.
                    if (((long) WORD.getVolatile(pending, PAD) & 1L) == 0) {
                        Thread.onSpinWait();
                        continue;
                    }
                    WORD.getAndBitwiseAnd(pending, PAD, ~1L); // clear, then take: a push after it rings again
                    Descriptor d = (Descriptor) HEAD.getAndSet(list, null);
                    while (d != null) {
                        final Descriptor next = d.next;
                        if (STATE.compareAndSet(d, QUEUED, RUNNING)) {
                            d.state = ANSWERED;
                            REMAINING.getAndAdd(d, -1); // the caller's spin ends here
                        }
                        d = next;
                    }
                }
            });
        }

        @Override
        protected void request(final long s) {
            final Descriptor d = mine;
            d.state = QUEUED;
            d.remaining = 1;
            Descriptor h;
            do {
                h = list.head;
                d.next = h; // plain: published by the CAS
            } while (!HEAD.compareAndSet(list, h, d));
            if (h == null) {
                WORD.getAndBitwiseOr(pending, PAD, 1L);
            }
            while (d.remaining != 0) {
                Thread.onSpinWait();
            }
            ack = s;
        }
    }

    /**
     * ipi4j: a doorbell IPI to a one-core machine whose handler acknowledges. Unpinned like the
     * floors and peers, so the comparison is like for like; {@code ipi-park-pinned} shows what
     * pinning the core (and not the caller) does on this host.
     */
    static final class Ipi extends RoundTrip {
        private static final Vector V = Vector.of(0x40);
        private final Machine machine;
        private long requested; // plain: the IPI is the happens-before edge

        Ipi(final String name, final IdlePolicy policy, final Floor floor, final Pinning pinning) {
            super(name, "ipi4j", floor);
            machine = Machine.builder().name(name).cores(1).idlePolicy(policy).pinning(pinning).build().start();
            machine.interrupts().register(V, irq -> ack = requested);
            responders.add(findThread(machine.core(0).threadId()));
        }

        @Override
        protected void request(final long s) {
            requested = s;
            machine.interrupts().send(0, V, null);
        }

        @Override
        public int pinnedCpu() {
            return machine.core(0).hostCpu();
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /**
     * ipi4j's cross-core call with wait ({@code SmpCall.run(0, action)}) to a one-core machine:
     * the descriptor is queued, the call-function IPI sent, the function acknowledges, and the
     * caller returns when the call is acknowledged. Allocation-free on both sides.
     */
    static final class CrossCall extends RoundTrip {
        private final Machine machine;
        private final SmpCall smp;
        /**
         * Nothing to do: the waited call's return is its acknowledgement (the target marked the
         * call done after running it), as {@code host-ipi}'s is the system call's return. An
         * action that wrote {@code ack = seq} on the target acknowledged twice and read the
         * caller's line on the way: two more line transfers than the floor's request and
         * acknowledgement.
         */
        private static final CoreAction NOTHING = cpu -> { };

        CrossCall(final String name, final IdlePolicy policy, final Floor floor) {
            super(name, "ipi4j", floor);
            machine = Machine.builder().name(name).cores(1).idlePolicy(policy).pinning(Pinning.NONE).build().start();
            smp = SmpCall.install(machine);
            responders.add(findThread(machine.core(0).threadId()));
        }

        @Override
        protected void request(final long s) {
            smp.run(0, NOTHING); // returns once the function ran on core 0
            ack = s;
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /**
     * The host's real IPI round trip: {@code membarrier(PRIVATE_EXPEDITED)} returns once the other
     * CPU, where our responder spins, took the kernel's IPI and ran its barrier. The peer of a
     * waited call to a spinning ipi4j core.
     */
    static final class HostIpiPeer extends RoundTrip {
        private final HostIpi ipi;

        HostIpiPeer() {
            super("host-ipi", "host", Floor.SPIN);
            try {
                ipi = HostIpi.open();
            } catch (HostCallRefusedException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            start(name() + "-spinner", () -> {
                while (running) {
                    Thread.onSpinWait(); // a thread of ours on the other CPU: what the barrier interrupts
                }
            });
        }

        @Override
        protected void request(final long s) {
            ipi.roundTrip();
            ack = s; // the round trip is the system call itself
        }
    }

    /**
     * The host's real one-page TLB shootdown: our responder keeps reading a page on the other
     * CPU; each request revokes the page's write right (the kernel invalidates it everywhere
     * before returning) and gives it back.
     */
    static final class HostShootdownPeer extends RoundTrip {
        private final HostShootdown page;
        private final Thread toucher;

        HostShootdownPeer() {
            super("host-shootdown", "host", Floor.SPIN);
            try {
                page = HostShootdown.open();
            } catch (HostCallRefusedException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
            toucher = start(name() + "-toucher", () -> {
                while (running) {
                    page.touch(); // keeps the page in this CPU's TLB
                }
            });
        }

        @Override
        protected void request(final long s) {
            page.revokeWrite();
            page.restoreWrite();
            ack = s;
        }

        @Override
        public void close() {
            super.close();
            try {
                toucher.join(); // before the unmap: a touch of an unmapped page kills the JVM
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // leave the page mapped rather than risk a touch after the unmap
            }
            page.close();
        }
    }

    /**
     * ipi4j's one-page shootdown, as {@code host-shootdown} measures the host's: a one-core
     * machine, spinning, runs an address space with the page in its TLB; each request revokes the
     * page's write right (returning once the core flushed it: one call-function IPI) and gives it
     * back (no shootdown: adding a right needs none).
     */
    static final class Shootdown extends RoundTrip {
        private final Machine machine;
        private final AddressSpace space;

        Shootdown() {
            super("shootdown-spin", "ipi4j", Floor.SPIN);
            machine = Machine.builder().name(name()).cores(1).idlePolicy(IdlePolicy.spin()).pinning(Pinning.NONE)
                .memoryWords(64).build().start();
            final Mmu mmu = Mmu.builder(SmpCall.install(machine)).build();
            space = mmu.newAddressSpace(1);
            space.map(0, 0, Pte.READ | Pte.WRITE);
            try {
                machine.core(0).submit(() -> {
                    mmu.switchTo(space);
                    mmu.read(space, 0);
                }).get();
            } catch (InterruptedException | ExecutionException e) {
                machine.close();
                throw new IllegalStateException("core 0 could not run the space", e);
            }
            responders.add(findThread(machine.core(0).threadId()));
        }

        @Override
        protected void request(final long s) {
            space.protect(0, 1, Pte.READ);
            space.protect(0, 1, Pte.READ | Pte.WRITE);
            ack = s;
        }

        @Override
        public void close() {
            machine.close();
        }
    }

    /** ExecutorService.submit(task).get() to a single-thread executor. */
    static final class ExecutorPeer extends RoundTrip {
        private final ExecutorService executor;

        private static final Runnable NOTHING = () -> { };

        ExecutorPeer() {
            super("executor", "peer", Floor.PARK);
            executor = Executors.newSingleThreadExecutor(responderFactory("executor-responder"));
        }

        @Override
        protected void request(final long s) {
            try {
                executor.submit(NOTHING).get(); // get's return is the acknowledgement, as a waited call's
                ack = s;
            } catch (InterruptedException | ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            executor.shutdownNow();
        }
    }

    /** An Agrona one-to-one queue drained by a thread with a BackoffIdleStrategy. */
    static final class AgronaPeer extends RoundTrip {
        private final OneToOneConcurrentArrayQueue<Long> queue = new OneToOneConcurrentArrayQueue<>(1024);

        AgronaPeer() {
            super("agrona-backoff", "peer", Floor.SPIN);
            start("agrona-responder", () -> {
                final IdleStrategy idle = new BackoffIdleStrategy(100, 10, 1_000, 1_000_000);
                while (running) {
                    final Long r = queue.poll();
                    if (r == null) {
                        idle.idle();
                    } else {
                        idle.reset();
                        ack = r;
                    }
                }
            });
        }

        @Override
        protected void request(final long s) {
            queue.offer(s);
        }
    }

    /** The LMAX Disruptor with one event handler. */
    static final class DisruptorPeer extends RoundTrip {
        static final class Event {
            long value;
        }

        private final Disruptor<Event> disruptor;
        private final RingBuffer<Event> ring;

        DisruptorPeer(final String name, final WaitStrategy wait, final Floor floor) {
            super(name, "peer", floor);
            disruptor = new Disruptor<>(Event::new, 1024, responderFactory(name + "-responder"), ProducerType.SINGLE, wait);
            disruptor.handleEventsWith((event, sequence, endOfBatch) -> ack = event.value);
            ring = disruptor.start();
        }

        @Override
        protected void request(final long s) {
            final long n = ring.next();
            ring.get(n).value = s;
            ring.publish(n);
        }

        @Override
        public void close() {
            disruptor.halt();
        }
    }

    static Thread findThread(final long id) {
        for (final Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getId() == id) {
                return t;
            }
        }
        throw new IllegalStateException("no thread " + id);
    }
}
