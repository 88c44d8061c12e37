package com.example.consumer;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.Vector;
import org.ipi4j.smp.SmpCall;

/** Exits non-zero unless the class path is lean and a machine works. */
public final class Main {
    private Main() {
    }

    public static void main(final String[] args) throws Exception {
        final List<String> jars = new ArrayList<>();
        for (final String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.endsWith(".jar")) {
                jars.add(new File(entry).getName());
            }
        }
        final List<String> unexpected = new ArrayList<>();
        for (final String jar : jars) {
            if (!(jar.startsWith("ipi4j-core-") || jar.startsWith("jctools-core-") || jar.startsWith("agrona-")
                || jar.startsWith("HdrHistogram-"))) {
                unexpected.add(jar);
            }
        }
        if (!unexpected.isEmpty() || jars.size() != 4) {
            throw new AssertionError("ipi4j-core should bring JCTools, Agrona and HdrHistogram only, not " + jars);
        }
        final Vector hello = Vector.of(0x40);
        try (Machine m = Machine.builder().cores(2).idlePolicy(IdlePolicy.park()).build().start()) {
            final CountDownLatch seen = new CountDownLatch(1);
            m.interrupts().register(hello, irq -> seen.countDown());
            m.interrupts().send(1, hello, "hello");
            if (!seen.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the IPI was not handled");
            }
            final int where = SmpCall.install(m).call(1, cpu -> cpu);
            System.out.println("[consumer-smoke] ok on Java " + Runtime.version() + ": class path " + jars
                + ", cross-core call ran on core " + where);
        }
    }
}
