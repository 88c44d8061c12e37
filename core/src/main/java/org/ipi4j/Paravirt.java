package org.ipi4j;

/**
 * Paravirtual features a machine's cores use, as a KVM guest does when the host offers them. They
 * matter only when cores are preempted ({@link Core#preempt}) or when IPIs are counted as VM
 * exits ({@link org.ipi4j.apic.InterruptController#vmExits()}); otherwise they change nothing.
 * All are on by default ({@link Machine.Builder#paravirt}).
 */
public enum Paravirt {
    /**
     * PV TLB flush: a shootdown that finds a target preempted marks a flush pending in the target's
     * state word (one CAS) instead of sending an IPI, and does not wait for it; the target flushes
     * its TLB when it resumes, before it runs anything.
     */
    TLB_FLUSH,
    /** PV send-IPI: an IPI to several cores is one hypercall per batch of 128 targets, not one VM exit per target. */
    SEND_IPI,
    /**
     * PV directed yield: a caller waiting for a cross-core call whose target is preempted yields to
     * it, ending the target's preemption, instead of waiting out the host's time slice.
     */
    SCHED_YIELD
}
