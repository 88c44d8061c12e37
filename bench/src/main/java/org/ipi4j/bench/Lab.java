package org.ipi4j.bench;

import org.ipi4j.bench.lab.LabCommand;

/**
 * The latency lab, the project's main job: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
 * -cp bench/target/benchmarks.jar org.ipi4j.bench.Lab [options]}; {@code --help} lists the options,
 * {@code compare A.json B.json} compares two runs. See {@link LabCommand}.
 */
public final class Lab {
    private Lab() {
    }

    /**
     * Runs the lab and exits with its code: 0 success, 1 a measurement failed, 2 bad arguments.
     *
     * @param args the command line
     */
    public static void main(final String[] args) {
        System.exit(LabCommand.run(args));
    }
}
