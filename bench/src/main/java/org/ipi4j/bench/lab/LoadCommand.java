package org.ipi4j.bench.lab;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import org.ipi4j.Machine;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code lab load}: the load curve alone ({@link LoadPart}), with its own services, caller counts
 * and rates; prints the table the main job's report has. Not thread-safe: one instance per command line.
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures throughput and latency against offered load, open loop: callers send their share of the "
        + "offered rate on an absolute schedule and latency is taken from each request's intended send time "
        + "(coordinated omission corrected). Curves run as interleaved trials: each round runs every curve once in a "
        + "fresh random order."},
    footer = {"", "Examples:",
        "  lab load",
        "  lab load --services call,call-async,disruptor --callers 1,2,4 --rates 10000,100000,1000000 --rounds 3"})
final class LoadCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--services", split = ",", paramLabel = "NAME",
        defaultValue = "ipi,call,call-async,sharded,disruptor,executor",
        description = "Services (default: ${DEFAULT-VALUE}).")
    private List<String> services;

    @Option(names = "--callers", split = ",", paramLabel = "N", defaultValue = "1,2,4",
        description = "Concurrent callers per curve (default: ${DEFAULT-VALUE}).")
    private List<Integer> callers;

    @Option(names = "--rates", split = ",", paramLabel = "PER_S", defaultValue = "10000,30000,100000,300000,1000000,3000000",
        description = "Offered rates, requests per second over all callers (default: ${DEFAULT-VALUE}).")
    private List<Long> rates;

    @Option(names = "--point", paramLabel = "TIME", converter = LabCommand.DurationConverter.class, defaultValue = "200ms",
        description = "Measuring time of one point (default: ${DEFAULT-VALUE}).")
    private Duration point;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "Counted rounds; each curve's first round is preceded by a warm-up round of its "
        + "rates, not counted (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the orders.")
    private long seed;

    @Override
    public Integer call() throws Exception {
        final LoadPart.Plan plan;
        try {
            plan = new LoadPart.Plan(services, callers, rates, point, rounds, seed);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        final PrintWriter out = spec.commandLine().getOut();
        out.printf("host: %d CPUs; %d curves x %d rates x %d rounds%n", Machine.hostCpus(),
            plan.services().size() * plan.callers().size(), plan.rates().size(), plan.rounds());
        out.flush();
        final List<Result> curves = new ArrayList<>();
        for (final LabRun.Step step : LoadPart.steps(plan)) {
            out.println(step.label());
            out.flush();
            final Result r = step.measure().call();
            if (curves.stream().noneMatch(x -> x == r)) {
                curves.add(r);
            }
        }
        out.println();
        out.print(LoadPart.table(curves).markdown());
        out.println();
        out.println(Report.COLUMNS.get("load"));
        out.flush();
        return 0;
    }
}
