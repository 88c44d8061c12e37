package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.ExceptionHandler;
import org.ipi4j.interrupts.GeneralProtectionException;
import org.ipi4j.interrupts.Mode;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.isa.Memory;
import org.ipi4j.isa.Program;
import org.ipi4j.isa.ProgramResult;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ProgramTest {
    static final Vector V = Vector.of(0x40);
    static final int LOOPS = 200_000;

    /**
     * r0 counts iterations; each iteration stores r0 to [0] then to [1]. Between those two
     * stores (epc 5) [0] is one ahead of [1]; at every other boundary they are equal. An
     * interrupt taken anywhere but an instruction boundary, or an EPC that is not the next
     * instruction, breaks that relation. A self-IPI at index 2 pins one EPC exactly (3).
     */
    static Program precise(final int selfCpu) {
        return Program.builder()
            .set(1, LOOPS)                 // 0
            .set(2, 42)                    // 1
            .sendIpi(selfCpu, V.number(), 2) // 2: taken at the boundary before 3
            .set(0, 0)                     // 3
            .label("loop")
            .addi(0, 1)                    // 4
            .store(0, 0)                   // 5 ... [0] = r0
            .store(1, 0)                   // 6 ... [1] = r0
            .addi(1, -1)                   // 7
            .bnez(1, "loop")               // 8
            .build();
    }

    @RepeatedTest(3)
    void interruptedProgramResumesAtTheSavedEpcAndComputesTheSameResult() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            final Memory mem = m.memory();
            final List<String> violations = Collections.synchronizedList(new ArrayList<>());
            final List<Long> selfIpiEpcs = Collections.synchronizedList(new ArrayList<>());
            m.interrupts().register(V, irq -> {
                final long epc = irq.frame().epc();
                if (irq.payloads().contains(42L)) {
                    selfIpiEpcs.add(epc);
                }
                if (epc >= 4) {
                    final long a = mem.load(0);
                    final long b = mem.load(1);
                    final boolean between = epc == 6;
                    if (between ? a != b + 1 : a != b) {
                        violations.add("epc " + epc + " with [0]=" + a + " [1]=" + b);
                    }
                }
            });
            // Reference run on core 0 with no other interrupts (only its own self-IPI).
            final ProgramResult reference = m.core(0).execute(precise(0), Mode.KERNEL).get(30, TimeUnit.SECONDS);

            mem.store(0, 0);
            mem.store(1, 0);
            final CompletableFuture<ProgramResult> run = m.core(1).execute(precise(1), Mode.KERNEL);
            final Thread spammer = new Thread(() -> {
                while (!run.isDone()) {
                    m.interrupts().send(1, V, null);
                    Thread.onSpinWait();
                }
            });
            spammer.start();
            final ProgramResult interrupted = run.get(30, TimeUnit.SECONDS);
            spammer.join();

            assertThat(violations).isEmpty();
            assertThat(selfIpiEpcs).containsExactly(3L, 3L);
            assertThat(interrupted.registers()).containsExactly(reference.registers());
            assertThat(interrupted.register(0)).isEqualTo(LOOPS);
            assertThat(interrupted.retired()).isEqualTo(reference.retired()).isEqualTo(4 + 5L * LOOPS);
            assertThat(interrupted.interruptsTaken()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void noDeliveryWhileInterruptsAreOffAndPromptDeliveryAfterSti() throws Exception {
        // timeHandlers: the interrupts-off maximum is measured only then (see InterruptsOffClockTest)
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).timeHandlers(true)
            .build().start()) {
            final Memory mem = m.memory();
            final List<Long> epcs = Collections.synchronizedList(new ArrayList<>());
            final List<Boolean> flagSeenInHandler = Collections.synchronizedList(new ArrayList<>());
            m.interrupts().register(V, irq -> {
                epcs.add(irq.frame().epc());
                flagSeenInHandler.add(irq.frame().previousInterruptsEnabled());
            });
            final Program p = Program.builder()
                .cli()                  // 0
                .set(0, 1)              // 1
                .store(10, 0)           // 2: tell the test we are masked
                .label("wait")
                .load(3, 11)            // 3: spin until the test says it sent
                .addi(3, -1)            // 4
                .bnez(3, "wait")        // 5
                .sti()                  // 6
                .nop()                  // 7: the interrupt is taken before this
                .build();
            final CompletableFuture<ProgramResult> run = m.core(1).execute(p, Mode.KERNEL);
            while (mem.load(10) != 1) {
                Thread.onSpinWait();
            }
            m.interrupts().send(1, V, "during cli");
            // The core spins through many boundaries with the bit pending; none may deliver.
            for (int i = 0; i < 1000 && epcs.isEmpty(); i++) {
                Thread.yield();
            }
            assertThat(epcs).as("no delivery while masked").isEmpty();
            mem.store(11, 1);
            final ProgramResult r = run.get(10, TimeUnit.SECONDS);
            assertThat(epcs).containsExactly(7L);
            assertThat(flagSeenInHandler).containsExactly(true);
            assertThat(r.interruptsTaken()).isEqualTo(1);
            assertThat(m.core(1).stats().maxIrqOffNanos()).isPositive();
        }
    }

    @Test
    void privilegedInstructionsInUserModeRaiseGeneralProtectionPrecisely() throws Exception {
        try (Machine m = Machine.builder().cores(2).pinning(Pinning.NONE).build().start()) {
            m.interrupts().register(V, irq -> { });
            final Program cli = Program.builder().set(0, 1).cli().addi(0, 1).build();
            final var killed = m.core(0).execute(cli, Mode.USER);
            assertThatThrownBy(() -> killed.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(GeneralProtectionException.class)
                .satisfies(e -> assertThat(((GeneralProtectionException) e).epc()).isEqualTo(1))
                .satisfies(e -> assertThat(((GeneralProtectionException) e).vector()).isEqualTo(Vector.GENERAL_PROTECTION));

            final Program send = Program.builder().set(0, 5).sendIpi(1, V.number(), 0).build();
            assertThatThrownBy(() -> m.core(0).execute(send, Mode.USER).get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(GeneralProtectionException.class);
            assertThat(m.core(1).stats().received()).isZero();

            // The same code in kernel mode runs, and the mode is restored afterwards.
            assertThat(m.core(0).execute(cli, Mode.KERNEL).get(10, TimeUnit.SECONDS).register(0)).isEqualTo(2);
            assertThat(m.core(0).stats().exceptions()).isEqualTo(2);

            // A #GP handler may skip the faulting instruction instead of killing the program.
            m.interrupts().onException(Vector.GENERAL_PROTECTION, fault -> ExceptionHandler.Action.SKIP);
            final ProgramResult skipped = m.core(0).execute(cli, Mode.USER).get(10, TimeUnit.SECONDS);
            assertThat(skipped.register(0)).isEqualTo(2);
            assertThat(skipped.exceptionsRaised()).isEqualTo(1);
            assertThat(skipped.retired()).isEqualTo(2);
        }
    }

    @Test
    void hltWaitsForAnInterruptThenContinues() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            m.interrupts().register(V, irq -> m.memory().store(20, 99));
            final Program p = Program.builder().set(1, 1).store(21, 1).hlt().load(0, 20).build();
            final var run = m.core(1).execute(p, Mode.KERNEL);
            while (m.memory().load(21) != 1) { // the program runs; the next idle state is its hlt
                Thread.onSpinWait();
            }
            DeliveryTestSupport.waitUntilIdle(m.core(1));
            assertThat(run).isNotDone();
            m.interrupts().send(1, V, null);
            final ProgramResult r = run.get(10, TimeUnit.SECONDS);
            assertThat(r.register(0)).isEqualTo(99);
            assertThat(r.interruptsTaken()).isEqualTo(1);
        }
    }

    @Test
    void ipiSentFromAProgramCarriesItsRegisterAsPayload() throws Exception {
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).pinning(Pinning.NONE).build().start()) {
            final CompletableFuture<List<Object>> got = new CompletableFuture<>();
            m.interrupts().register(V, irq -> got.complete(List.copyOf(irq.payloads())));
            m.core(0).execute(Program.builder().set(4, 1234).sendIpi(1, V.number(), 4).build(), Mode.KERNEL)
                .get(10, TimeUnit.SECONDS);
            assertThat(got.get(10, TimeUnit.SECONDS)).containsExactly(1234L);
            assertThat(m.core(0).stats().sent()).isEqualTo(1);
        }
    }

    @Test
    void programBuilderRejectsBadOperands() {
        assertThatThrownBy(() -> Program.builder().set(8, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Program.builder().store(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Program.builder().bnez(0, "nowhere").build()).hasMessageContaining("nowhere");
        assertThatThrownBy(() -> Program.builder().label("a").label("a")).hasMessageContaining("twice");
    }
}
