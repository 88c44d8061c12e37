package org.ipi4j.bench.lab;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code lab matrix}: the host's core-to-core latency matrix ({@link CoreToCore}), the topology it
 * implies and whether a hypervisor runs the host. Not thread-safe: one instance per command line.
 */
@Command(name = "matrix", mixinStandardHelpOptions = true,
    description = {"Measures the host's core-to-core latency: a cache line passed between two threads pinned to two "
        + "host CPUs, for every pair. Prints the matrix, the Topology it implies (for Machine.Builder.topology) and "
        + "whether a hypervisor runs the host."})
final class MatrixCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        final PrintWriter out = spec.commandLine().getOut();
        out.print(CoreToCore.table(CoreToCore.measure()));
        out.flush();
        return 0;
    }
}
