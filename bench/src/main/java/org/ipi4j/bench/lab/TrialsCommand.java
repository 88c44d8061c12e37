package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

import org.ipi4j.Machine;
import org.ipi4j.bench.RoundTrip;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code lab trials}: round-trip variants against their floors as interleaved trials
 * ({@link Trials}); prints a Markdown table of per-round ratios with bootstrap confidence
 * intervals, and optionally every trial as CSV. Not thread-safe: one instance per command line.
 */
// picocli formats the description: a percent sign is written %%
@Command(name = "trials", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures round-trip variants against their floors as interleaved trials: every round runs a short "
        + "trial of each variant and floor in a fresh random order, and each ratio is the median of per-round ratios "
        + "with a 95%% bootstrap confidence interval. Use it to compare timings on a host whose speed changes for "
        + "seconds to minutes at a time."},
    footer = {"", "Examples:",
        "  lab trials                                          (ipi-spin, call-spin, ipi-park, call-park)",
        "  lab trials --variants ipi-spin,disruptor-busyspin --rounds 20 --trial 300ms --csv trials.csv"})
final class TrialsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--variants", split = ",", paramLabel = "NAME", defaultValue = "ipi-spin,call-spin,ipi-park,call-park",
        description = "Round-trip variants (see lab --list); their floors are added (default: ${DEFAULT-VALUE}).")
    private List<String> variants;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "12",
        description = "Counted rounds, after one warm-up round (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--trial", paramLabel = "TIME", converter = LabCommand.DurationConverter.class, defaultValue = "400ms",
        description = "Measuring time of one trial (default: ${DEFAULT-VALUE}).")
    private Duration trial;

    @Option(names = "--warmup", paramLabel = "TIME", converter = LabCommand.DurationConverter.class, defaultValue = "200ms",
        description = "Warm-up of one trial, not recorded (default: ${DEFAULT-VALUE}).")
    private Duration warmUp;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the orders and the bootstrap.")
    private long seed;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write every trial (round, variant, p50, samples).")
    private Path csv;

    @Override
    public Integer call() throws IOException {
        if (rounds < 2) {
            throw new ParameterException(spec.commandLine(), "--rounds must be at least 2, got " + rounds);
        }
        for (final String v : variants) {
            if (!RoundTrip.variants().contains(v)) {
                throw new ParameterException(spec.commandLine(), "--variants: unknown variant " + v + "; known: "
                    + RoundTrip.variants());
            }
        }
        final PrintWriter out = spec.commandLine().getOut();
        out.printf("host: %d CPUs; %d rounds x %d variants and floors%n", Machine.hostCpus(), rounds, variants.size());
        out.flush();
        final List<Trials.Trial> trials = Trials.run(variants, warmUp, trial, rounds, seed, t -> {
            out.printf("round %2d  %-20s p50 %8.0f ns  (%d samples)%n", t.round(), t.variant(), t.p50Nanos(), t.samples());
            out.flush();
        });
        out.println();
        out.print(Trials.table(Trials.compare(trials, seed), rounds, trial));
        out.flush();
        if (csv != null) {
            final StringBuilder b = new StringBuilder("round,variant,floor,p50_ns,samples,oversubscribed\n");
            for (final Trials.Trial t : trials) {
                b.append(t.round()).append(',').append(t.variant()).append(',').append(t.floor() == null ? "" : t.floor())
                    .append(',').append(t.p50Nanos()).append(',').append(t.samples()).append(',')
                    .append(t.oversubscribed()).append('\n');
            }
            Files.writeString(csv, b);
        }
        return 0;
    }
}
