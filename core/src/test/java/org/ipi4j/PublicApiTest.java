package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

import org.ipi4j.apic.FaultInjector;
import org.ipi4j.apic.Faults;
import org.ipi4j.apic.InterruptController;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.FaultPolicy;
import org.ipi4j.interrupts.InterruptHandler;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.OverflowPolicy;
import org.ipi4j.interrupts.Shorthand;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.AddressTranslation;
import org.ipi4j.isa.Program;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Mmu;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.CallFunction;
import org.ipi4j.smp.CoreAction;
import org.ipi4j.smp.Scheduler;
import org.ipi4j.smp.SmpCall;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Walks the public methods of the entry points a user calls with arguments, on live objects:
 * each reference parameter in turn is given null (the others valid samples), and each core-id
 * parameter a core outside the machine. The library must answer with
 * {@link NullPointerException} whose message is the parameter's name, or
 * {@link IllegalArgumentException} naming the core, before doing anything. Parameters where null
 * has a documented meaning are listed in {@link #NULL_ALLOWED}.
 */
@Timeout(120)
class PublicApiTest {
    static final Vector V = Vector.of(0x40);
    static Machine machine;
    static SmpCall smp;
    static Mmu mmu;
    static AddressSpace space;
    static org.ipi4j.shard.Sharded<Object> sharded;

    /** "Class.method(param)" where null means something (documented on the method). */
    static final Set<String> NULL_ALLOWED = Set.of(
        "InterruptController.send(payload)",            // a doorbell without payload
        "InterruptController.trySend(payload)",
        "Core.execute(translation)",                    // physical addresses
        "SmpCall.runAsync(condition)", "SmpCall.run(condition)", // every core in the set
        "Mmu.switchTo(as)",                             // run no space
        "Sharded.mapReduce(initial)", "Sharded.mapReduceAsync(initial)", // a fold may start from null
        "Simulation.park(blocker)", "Simulation.parkNanos(blocker)", // LockSupport's contract: no blocker
        "Simulation.unpark(thread)");                   // LockSupport's contract: null is ignored

    /** Where a core id must exist on the machine (a CpuSet, a builder or a fault hook cannot know it). */
    static final Set<Class<?>> MACHINE_BOUND = Set.of(Machine.class, Core.class, InterruptController.class,
        SmpCall.class, Scheduler.class, Mmu.class, AddressSpace.class, org.ipi4j.smp.CallCompletion.class,
        org.ipi4j.shard.Sharded.class);

    @BeforeAll
    static void start() {
        machine = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).memoryWords(64 * 8)
            .build().start();
        machine.interrupts().register(V, irq -> { });
        smp = SmpCall.install(machine);
        mmu = Mmu.builder(smp).pageWords(64).build();
        space = mmu.newAddressSpace(4);
        sharded = org.ipi4j.shard.Sharded.start(smp, cpu -> new Object());
    }

    @AfterAll
    static void stop() {
        machine.shutdown(Duration.ofSeconds(10));
    }

    static Stream<Arguments> entryPoints() {
        final Map<String, Object> targets = new java.util.LinkedHashMap<>();
        targets.put("Machine", machine);
        targets.put("Machine.Builder", Machine.builder());
        targets.put("Core", machine.core(0));
        targets.put("InterruptController", machine.interrupts());
        targets.put("SmpCall", smp);
        targets.put("SmpCall.withDeadline", smp.withDeadline(Duration.ofSeconds(5)));
        targets.put("SmpCallBuilder", SmpCall.builder(machine));
        targets.put("CallCompletion", smp.callAsync(0, cpu -> cpu));
        targets.put("Scheduler", Scheduler.on(machine));
        targets.put("Mmu", mmu);
        targets.put("Mmu.Builder", Mmu.builder(smp));
        targets.put("AddressSpace", space);
        targets.put("Program.Builder", Program.builder());
        targets.put("CpuSet", CpuSet.of(0));
        targets.put("Faults", new Faults(2));
        targets.put("Simulation.Builder", org.ipi4j.sim.Simulation.builder());
        targets.put("CostModel.Builder", org.ipi4j.sim.CostModel.builder());
        targets.put("CostModel", org.ipi4j.sim.CostModel.defaults());
        targets.put("Simulation", org.ipi4j.sim.Simulation.builder().build());
        targets.put("Sharded", sharded);
        targets.put("KeyRouter", new org.ipi4j.shard.KeyRouter(2));
        final List<Arguments> out = new ArrayList<>();
        targets.forEach((name, target) -> {
            for (final Method m : target.getClass().getMethods()) {
                if (m.getDeclaringClass() != Object.class && !m.isSynthetic() && m.getParameterCount() > 0
                    && (!(target instanceof java.util.concurrent.CompletableFuture) || m.getDeclaringClass() == target.getClass())) {
                    out.add(Arguments.of(name + "." + m.getName() + sig(m), target, m));
                }
            }
        });
        for (final Class<?> statics : List.of(SmpCall.class, org.ipi4j.smp.ServiceGroup.class, Scheduler.class, Mmu.class, IdlePolicy.class, Vector.class,
            CpuSet.class, Broadcast.class, org.ipi4j.interrupts.Topology.class, org.ipi4j.shard.Sharded.class,
            org.ipi4j.sim.CostModel.class)) {
            for (final Method m : statics.getMethods()) {
                if (Modifier.isStatic(m.getModifiers()) && m.getParameterCount() > 0 && m.getDeclaringClass() == statics) {
                    out.add(Arguments.of(statics.getSimpleName() + "." + m.getName() + sig(m), null, m));
                }
            }
        }
        return out.stream();
    }

    private static String sig(final Executable e) {
        final StringBuilder sb = new StringBuilder("(");
        for (final Parameter p : e.getParameters()) {
            sb.append(sb.length() > 1 ? ", " : "").append(p.getType().getSimpleName()).append(' ').append(p.getName());
        }
        return sb.append(')').toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void nullAndOutOfRangeArgumentsAreNamed(final String name, final Object target, final Method method) throws Exception {
        final Parameter[] ps = method.getParameters();
        assertThat(ps[0].isNamePresent()).as("compiled with -parameters").isTrue();
        for (int i = 0; i < ps.length; i++) {
            final Object[] args = samples(ps);
            if (!ps[i].getType().isPrimitive() && !method.getName().equals("equals")) {
                if (NULL_ALLOWED.contains(method.getDeclaringClass().getSimpleName() + "." + method.getName()
                    + "(" + ps[i].getName() + ")")) {
                    continue;
                }
                args[i] = null;
                final Throwable t = invoke(target, method, args);
                assertThat(t).as("%s with %s = null", name, ps[i].getName()).isInstanceOf(NullPointerException.class);
                assertThat(t).as("%s with %s = null", name, ps[i].getName()).hasMessage(ps[i].getName());
            } else if (ps[i].getType() == int.class && Set.of("cpu", "id", "target").contains(ps[i].getName())
                && MACHINE_BOUND.contains(method.getDeclaringClass())) {
                args[i] = 7; // the machine has 2 cores
                final Throwable t = invoke(target, method, args);
                assertThat(t).as("%s with %s = 7", name, ps[i].getName()).isInstanceOf(IllegalArgumentException.class);
                assertThat(t.getMessage()).as("%s with %s = 7", name, ps[i].getName()).contains("core 7");
            }
        }
    }

    private static Throwable invoke(final Object target, final Method method, final Object[] args) throws Exception {
        try {
            method.invoke(target, args);
            return null;
        } catch (InvocationTargetException e) {
            return e.getCause();
        }
    }

    private static Object[] samples(final Parameter[] ps) {
        final Object[] args = new Object[ps.length];
        for (int i = 0; i < ps.length; i++) {
            args[i] = sample(ps[i].getType());
        }
        return args;
    }

    private static Object sample(final Class<?> type) {
        if (type == int.class) {
            return 0;
        } else if (type == long.class) {
            return 0L;
        } else if (type == double.class) {
            return 0.0;
        } else if (type == boolean.class) {
            return false;
        } else if (type == int[].class) {
            return new int[] {0};
        } else if (type == Vector.class) {
            return V;
        } else if (type == CpuSet.class) {
            return CpuSet.of(0);
        } else if (type == Duration.class) {
            return Duration.ofMillis(10);
        } else if (type == IdlePolicy.class) {
            return IdlePolicy.park();
        } else if (type == Pinning.class) {
            return Pinning.NONE;
        } else if (type == OverflowPolicy.class) {
            return OverflowPolicy.FAIL;
        } else if (type == FaultPolicy.class) {
            return FaultPolicy.CONTINUE;
        } else if (type == Mode.class) {
            return Mode.KERNEL;
        } else if (type == Broadcast.class) {
            return Broadcast.flat();
        } else if (type == Shorthand.class) {
            return Shorthand.ALL;
        } else if (type == Runnable.class) {
            return (Runnable) () -> { };
        } else if (type == Callable.class) {
            return (Callable<Object>) () -> null;
        } else if (type == CoreAction.class) {
            return (CoreAction) cpu -> { };
        } else if (type == CallFunction.class) {
            return (CallFunction<Object>) cpu -> null;
        } else if (type == IntPredicate.class) {
            return (IntPredicate) cpu -> true;
        } else if (type == InterruptHandler.class) {
            return (InterruptHandler) irq -> { };
        } else if (type == ExceptionHandler.class) {
            return (ExceptionHandler) f -> ExceptionHandler.Action.KILL;
        } else if (type == Consumer.class) {
            return (Consumer<Object>) x -> { };
        } else if (type == BooleanSupplier.class) {
            return (BooleanSupplier) () -> true;
        } else if (type == Program.class) {
            return Program.builder().nop().build();
        } else if (type == AddressSpace.class) {
            return space;
        } else if (type == AddressTranslation.class) {
            return AddressTranslation.physical();
        } else if (type == FaultInjector.class) {
            return new Faults(2);
        } else if (type == SmpCall.class) {
            return smp;
        } else if (type == Machine.class) {
            return machine;
        } else if (type == String.class || type == Object.class) {
            return "x";
        } else if (type == java.util.function.Supplier.class) {
            return (java.util.function.Supplier<Object>) org.agrona.concurrent.BusySpinIdleStrategy::new;
        } else if (type == Pinner.class) {
            return (Pinner) () -> null;
        } else if (type == java.util.function.IntConsumer.class) {
            return (java.util.function.IntConsumer) cpu -> { };
        } else if (type == org.jctools.queues.MessagePassingQueue.class) {
            return new org.jctools.queues.MpscUnboundedXaddArrayQueue<Object>(8);
        } else if (type == org.ipi4j.interrupts.DeliveryMode.class) {
            return org.ipi4j.interrupts.DeliveryMode.POSTED;
        } else if (type == Paravirt.class) {
            return Paravirt.TLB_FLUSH;
        } else if (type == Paravirt[].class) {
            return new Paravirt[] {Paravirt.SEND_IPI};
        } else if (type == int[].class) {
            return new int[] {0};
        } else if (type == java.util.concurrent.ThreadFactory.class) {
            return (java.util.concurrent.ThreadFactory) Thread::new;
        } else if (type == org.ipi4j.sim.Simulation.class) {
            return org.ipi4j.sim.Simulation.builder().build();
        } else if (type == org.ipi4j.sim.CostModel.class) {
            return org.ipi4j.sim.CostModel.defaults();
        } else if (type == org.ipi4j.interrupts.Topology.class) {
            return org.ipi4j.interrupts.Topology.uniform();
        } else if (type == org.ipi4j.time.Timeline.Work.class) {
            return org.ipi4j.time.Timeline.Work.named("send");
        } else if (type == java.util.concurrent.CompletableFuture.class) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        } else if (type == Thread.class) {
            return Thread.currentThread();
        } else if (type == java.util.function.IntFunction.class) {
            return (java.util.function.IntFunction<Object>) cpu -> new Object();
        } else if (type == java.util.function.BiFunction.class) {
            return (java.util.function.BiFunction<Object, Object, Object>) (a, b) -> a;
        } else if (type == org.ipi4j.shard.ShardFunction.class) {
            return (org.ipi4j.shard.ShardFunction<Object, Object>) shard -> shard;
        } else if (type == org.ipi4j.shard.ShardAction.class) {
            return (org.ipi4j.shard.ShardAction<Object>) shard -> { };
        } else if (type == InterruptController.class) {
            return machine.interrupts();
        } else if (type == org.ipi4j.smp.ServiceGroup.class) {
            return org.ipi4j.smp.ServiceGroup.of("g", 1, OverflowPolicy.FAIL);
        } else if (type == java.nio.file.Path.class) {
            return java.nio.file.Path.of("target", "public-api-test-sample"); // only ever passed beside a null
        } else if (type == java.util.function.Function.class) {
            return java.util.function.Function.identity();
        }
        throw new AssertionError("no sample value for " + type.getName() + ": add one to PublicApiTest");
    }
}
