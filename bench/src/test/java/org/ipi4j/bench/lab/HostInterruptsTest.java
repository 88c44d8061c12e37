package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostInterruptsTest {
    /** Recorded on a 2-CPU KVM guest (shortened): the kinds are summed over the CPUs of the header. */
    private static final String SAMPLE = String.join("\n",
        "           CPU0       CPU1       ",
        "  1:          9          0   IO-APIC   1-edge      i8042",
        " 24:     118245      73210   PCI-MSI 49152-edge      virtio0-config",
        "NMI:          0          0   Non-maskable interrupts",
        "LOC:   10556993   15516012   Local timer interrupts",
        "SPU:          0          0   Spurious interrupts",
        "RES:    7387979    7284130   Rescheduling interrupts",
        "CAL:   30910800   30819997   Function call interrupts",
        "TLB:    3497841    3507536   TLB shootdowns",
        "ERR:          0",
        "MIS:          0",
        "");

    @Test
    void aRecordedSampleGivesEachKindSummedOverTheCpus() {
        final HostInterrupts.Counts c = HostInterrupts.parse(SAMPLE).orElseThrow();
        assertThat(c.get(0)).isEqualTo(7387979L + 7284130L); // RES
        assertThat(c.get(1)).isEqualTo(30910800L + 30819997L); // CAL
        assertThat(c.get(2)).isEqualTo(3497841L + 3507536L); // TLB
        assertThat(c.get(3)).isEqualTo(10556993L + 15516012L); // LOC
    }

    @Test
    void theDifferenceOfTwoReadingsIsWhatHappenedBetweenThem() {
        final HostInterrupts.Counts earlier = HostInterrupts.parse(SAMPLE).orElseThrow();
        final HostInterrupts.Counts later = HostInterrupts.parse(SAMPLE.replace("7387979", "7387990")).orElseThrow();
        assertThat(later.minus(earlier).byKind()).containsExactly(11, 0, 0, 0);
    }

    @Test
    void aFileWithoutTheHeaderOrAKindGivesNoCountsRatherThanZeros() {
        assertThat(HostInterrupts.parse("")).isEmpty();
        assertThat(HostInterrupts.parse(SAMPLE.substring(SAMPLE.indexOf('\n') + 1))).isEmpty();
        assertThat(HostInterrupts.parse(SAMPLE.replace("TLB:", "XYZ:"))).isEmpty();
    }
}
