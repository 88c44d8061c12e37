package org.ipi4j.bench.lab;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.ipi4j.bench.torture.Torture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code lab torture}: {@link Torture} runs over consecutive seeds, printing every second the
 * operations, faults and oracle checks per second, and at the end the totals; the exit code is 1
 * when any oracle failed (each failure names its seed). Not thread-safe: one instance per command
 * line, as picocli makes it.
 */
@Command(name = "torture", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Tortures the library: seeded runs of everything at once (sends, handlers that send, throw and block, "
        + "waited and async calls in every shape, scheduler jobs, programs, map/unmap/protect and gathers on shared "
        + "spaces with the stale detector on, preemption, every fault, hooks that throw, block and re-enter), each "
        + "ended by a shutdown with a deadline and judged by every oracle. Exit code 1 when an oracle failed."},
    footer = {"", "Examples:",
        "  lab torture --duration 10m",
        "  lab torture --seed 42 --seeds 1 --run 5s        (replay one real-time seed's configuration)",
        "  lab torture --simulate --seeds 200              (200 simulated seeds, each run twice: exact replay)"})
final class TortureCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--duration", paramLabel = "TIME", converter = LabCommand.DurationConverter.class,
        description = "Wall time for the whole torture (default 1m, or --seeds runs when --seeds is given).")
    private Duration duration;

    @Option(names = "--run", paramLabel = "TIME", converter = LabCommand.DurationConverter.class,
        description = "Length of one seed's mix before its shutdown: wall time (default 5s), or virtual time with "
            + "--simulate (default 2ms).")
    private Duration run;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "First seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--seeds", paramLabel = "N", description = "How many seeds (consecutive from --seed); default: as many "
        + "as fit in --duration.")
    private Integer seeds;

    @Option(names = "--simulate", description = "Run in virtual time (Simulation): no outside threads, no real-time "
        + "faults or stuck work, and each seed is run twice to check that it replays exactly (trace and counts).")
    private boolean simulate;

    @Option(names = "--no-replay", description = "With --simulate: run each seed once, without the replay check.")
    private boolean noReplay;

    @Option(names = "--verbose", description = "Print each run's result and how its operations ended.")
    private boolean verbose;

    @Override
    public Integer call() throws Exception {
        final PrintWriter out = spec.commandLine().getOut();
        if (seeds != null && seeds < 1) {
            throw new ParameterException(spec.commandLine(), "--seeds must be at least 1, not " + seeds);
        }
        final Duration each = run != null ? run : simulate ? Duration.ofMillis(2) : Duration.ofSeconds(5);
        if (each.isNegative() || each.isZero()) {
            throw new ParameterException(spec.commandLine(), "--run must be positive, not " + each);
        }
        final Duration total = duration != null ? duration : seeds != null ? null : Duration.ofMinutes(1);
        if (total != null && (total.isNegative() || total.isZero())) {
            throw new ParameterException(spec.commandLine(), "--duration must be positive, not " + total);
        }
        out.printf(Locale.ROOT, "[torture] %s, seeds from %d%s, %s per seed%s%n", simulate ? "simulated" : "real time",
            seed, seeds != null ? " (" + seeds + ")" : "", each, total != null ? ", for " + total : "");
        out.flush();
        final Torture.Progress progress = new Torture.Progress();
        final long start = System.nanoTime();
        final long[] current = {seed};
        final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            final Thread t = new Thread(r, "torture-ticker");
            t.setDaemon(true);
            return t;
        });
        final long[] last = new long[3];
        ticker.scheduleAtFixedRate(() -> {
            final long o = progress.operations();
            final long f = progress.faults();
            final long c = progress.checks();
            out.printf(Locale.ROOT, "[torture] %4ds  seed %d  %,9d ops/s  %,7d faults/s  %,9d checks/s  failures %d%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), current[0], o - last[0], f - last[1],
                c - last[2], progress.failures());
            out.flush();
            last[0] = o;
            last[1] = f;
            last[2] = c;
        }, 1, 1, TimeUnit.SECONDS);
        final Map<Torture.Kind, Long> ops = new EnumMap<>(Torture.Kind.class);
        final Map<Torture.Fault, Long> faults = new EnumMap<>(Torture.Fault.class);
        final Map<Torture.Oracle, Long> checks = new EnumMap<>(Torture.Oracle.class);
        final List<String> failures = new ArrayList<>();
        final List<Long> failedSeeds = new ArrayList<>();
        int runs = 0;
        long failureCount = 0;
        try {
            for (long s = seed; ; s++) {
                if (seeds != null && s - seed >= seeds) {
                    break;
                }
                if (total != null && System.nanoTime() - start >= total.toNanos()) {
                    break;
                }
                current[0] = s;
                final Torture.Result r = Torture.run(s, each, simulate, progress);
                runs++;
                r.operations().forEach((k, v) -> ops.merge(k, v, Long::sum));
                r.faults().forEach((k, v) -> faults.merge(k, v, Long::sum));
                r.checks().forEach((k, v) -> checks.merge(k, v, Long::sum));
                failureCount += r.failureCount();
                if (verbose) {
                    out.println("[torture] " + (r.ok() ? r : "") + "\n  outcomes " + r.outcomes() + "\n  operations "
                        + r.operations());
                }
                if (!r.ok()) {
                    failedSeeds.add(s);
                    failures.addAll(r.failures().subList(0, Math.min(5, r.failures().size())));
                    out.println("[torture] FAILED " + r);
                }
                if (simulate && !noReplay) {
                    final Torture.Result again = Torture.run(s, each, true, null);
                    checks.merge(Torture.Oracle.CONTRACT, 1L, Long::sum);
                    if (again.trace() != r.trace() || !again.counts().equals(r.counts())) {
                        failureCount++;
                        failedSeeds.add(s);
                        failures.add("seed " + s + " (simulated) [replay] a second run differs: trace "
                            + Long.toHexString(r.trace()) + " vs " + Long.toHexString(again.trace()) + "\n  first:  "
                            + r.counts() + "\n  second: " + again.counts());
                    }
                }
            }
        } finally {
            ticker.shutdownNow();
        }
        final double secs = (System.nanoTime() - start) / 1e9;
        final long opsTotal = ops.values().stream().mapToLong(Long::longValue).sum();
        final long faultsTotal = faults.values().stream().mapToLong(Long::longValue).sum();
        final long checksTotal = checks.values().stream().mapToLong(Long::longValue).sum();
        out.printf(Locale.ROOT, "[torture] totals: %d runs in %.1f s: %,d operations (%,.0f/s), %,d faults (%,.0f/s), "
                + "%,d checks (%,.0f/s), %d failures%n", runs, secs, opsTotal, opsTotal / secs, faultsTotal,
            faultsTotal / secs, checksTotal, checksTotal / secs, failureCount);
        out.println("[torture] operations: " + ops);
        out.println("[torture] faults: " + faults);
        out.println("[torture] checks: " + checks);
        if (failureCount > 0) {
            out.println("[torture] seeds that failed: " + failedSeeds);
            failures.forEach(f -> out.println("[torture]   " + f));
        }
        out.flush();
        return failureCount == 0 ? 0 : 1;
    }
}
