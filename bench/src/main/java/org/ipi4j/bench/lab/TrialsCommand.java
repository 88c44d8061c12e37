package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
        "  lab trials                                          (ipi-spin, call-spin, ipi-park, call-park, host-ipi)",
        "  lab trials --variants ipi-spin,host-ipi,shootdown-spin,host-shootdown   (the emulation beside the host's own IPI and shootdown)",
        "  lab trials --variants ipi-spin,floor-irr,call-spin,floor-call --rounds 40 --trial 150ms   (what ipi4j adds to its protocols)",
        "  lab trials --variants ipi-spin,disruptor-busyspin --rounds 20 --trial 300ms --csv trials.csv"})
final class TrialsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--variants", split = ",", paramLabel = "NAME", defaultValue = "ipi-spin,call-spin,ipi-park,call-park,host-ipi",
        description = "Round-trip variants (see lab --list, plus the host's own host-ipi and host-shootdown, run where "
            + "the host allows them, shootdown-spin, ipi4j's one-page shootdown measured the same way, and floor-irr "
            + "and floor-call, the bare protocols under ipi4j's IPI and waited call); their floors are added (default: ${DEFAULT-VALUE}).")
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

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write every trial (round, block, variant, p50, samples).")
    private Path csv;

    @Override
    public Integer call() throws IOException {
        if (rounds < 2) {
            throw new ParameterException(spec.commandLine(), "--rounds must be at least 2, got " + rounds);
        }
        for (final String v : variants) {
            if (!RoundTrip.variants().contains(v) && !RoundTrip.hostVariants().contains(v)
                && !RoundTrip.protocolVariants().contains(v)) {
                throw new ParameterException(spec.commandLine(), "--variants: unknown variant " + v + "; known: "
                    + RoundTrip.variants() + ", the host's " + RoundTrip.hostVariants() + " and the protocol floor "
                    + RoundTrip.protocolVariants());
            }
        }
        final PrintWriter out = spec.commandLine().getOut();
        final List<String> run = new java.util.ArrayList<>();
        for (final String v : variants) {
            final java.util.Optional<String> refused = RoundTrip.refusal(v);
            if (refused.isPresent()) {
                out.printf("%s: not measured, the host refuses it: %s%n", v, refused.get()); // and the run goes on
            } else {
                run.add(v);
            }
        }
        out.printf("host: %d CPUs; %d rounds x %d variants and floors%n", Machine.hostCpus(), rounds, run.size());
        out.flush();
        final Map<String, List<String>> peers = Trials.peers(run);
        final List<Trials.Trial> trials = Trials.run(run, peers, warmUp, trial, rounds, seed, t -> {
            if (t.variant().equals(Trials.IDLE)) {
                out.printf("round %2d  %-20s (the host's interrupts at rest, the baseline)%n", t.round(), t.variant());
            } else {
                out.printf("round %2d  %-20s p50 %8.0f ns  (%d samples)%n", t.round(), t.variant(), t.p50Nanos(),
                    t.samples());
            }
            out.flush();
        });
        out.println();
        out.print(Trials.table(Trials.compare(trials, seed), rounds, trial));
        peers(out, Trials.compareWithPeer(trials, peers, "host-ipi", seed), "Against the host's own mechanism (host-ipi: "
            + "membarrier(PRIVATE_EXPEDITED) to a CPU where a thread of ours spins)");
        peers(out, Trials.compareWithPeer(trials, peers, "host-shootdown", seed), "Against the host's own mechanism "
            + "(host-shootdown: mprotect revoking and restoring the write right of a page a thread of ours reads on another CPU)");
        peers(out, Trials.compareWithPeer(trials, peers, Trials.PROTOCOL_FLOOR, seed), "Against the bare pending-bit "
            + "protocol (floor-irr: a bit set by one RMW, found by a spinning load, cleared by another RMW; what ipi4j's "
            + "own code adds to it)");
        peers(out, Trials.compareWithPeer(trials, peers, Trials.CALL_PROTOCOL_FLOOR, seed), "Against the bare protocol "
            + "of a waited call (floor-call: a descriptor pushed with a CAS, the bit rung, the list taken, the descriptor "
            + "claimed by a CAS and answered by a decrement; what ipi4j's call code adds to it)");
        out.println();
        out.print(Trials.hostTable(Trials.hostCosts(trials)));
        out.flush();
        if (csv != null) {
            final StringBuilder b = new StringBuilder("round,block,variant,floor,p50_ns,samples,oversubscribed");
            for (final String k : HostInterrupts.KINDS) {
                b.append(',').append("host_").append(k.toLowerCase(java.util.Locale.ROOT));
            }
            b.append('\n');
            for (final Trials.Trial t : trials) {
                b.append(t.round()).append(',').append(t.block()).append(',').append(t.variant()).append(',')
                    .append(t.floor() == null ? "" : t.floor())
                    .append(',').append(t.p50Nanos()).append(',').append(t.samples()).append(',')
                    .append(t.oversubscribed());
                for (int k = 0; k < HostInterrupts.KINDS.length; k++) {
                    b.append(',').append(t.irqs() == null ? "" : Long.toString(t.irqs().get(k)));
                }
                b.append('\n');
            }
            Files.writeString(csv, b);
        }
        return 0;
    }

    private void peers(final PrintWriter out, final List<Trials.Comparison> real, final String heading) {
        if (!real.isEmpty()) {
            out.println();
            out.println(heading + ", in the same blocks:");
            out.println();
            out.print(Trials.table(real, rounds, trial, false));
        }
    }
}
