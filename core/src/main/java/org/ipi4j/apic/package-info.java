/**
 * The delivery path, from send to handler: {@link org.ipi4j.apic.InterruptController} (the IDT,
 * validation and the send API), and per core its {@link org.ipi4j.apic.CpuPort}, which holds both
 * halves of a delivery (offer, raise, wake; accept, handler, EOI) in one file and owns the core's
 * {@link org.ipi4j.apic.LocalApic} (pending bits and mailboxes), {@link org.ipi4j.apic.IdleLoop}
 * (both halves of the wait/wake handshake), {@link org.ipi4j.apic.CpuContext} (registers and
 * counters) and {@link org.ipi4j.apic.Vcpu} (preemption by the host); the closing protocol
 * ({@link org.ipi4j.apic.SendGate}); fault injection ({@link org.ipi4j.apic.FaultInjector},
 * {@link org.ipi4j.apic.Faults}). Instrumentation is one probe call per site, its kind chosen once
 * when the ports are built. This package never sees a {@code Core} or a {@code Machine}.
 *
 * <p>Supported API: {@code InterruptController}'s register and send methods and its counters,
 * {@code Faults} and {@code FaultInjector}, and the observers of the per-core parts. Internal, public
 * for the machine and for the jcstress suite, which drives the real classes, and marked
 * {@link org.ipi4j.api.InternalApi}: {@code ControllerConfig}, {@code CpuPort}, {@code LocalApic},
 * {@code IdleLoop}, {@code CpuContext} and {@code SendGate}, and the constructors and mutators of
 * {@code InterruptController} and {@code Vcpu} (port, post, resend, close; bind, preempt,
 * stopIfRequested and the like), with no compatibility promise; applications reach them through
 * {@code Machine} and {@code Core}.
 */
package org.ipi4j.apic;
