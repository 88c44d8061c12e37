package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.ipi4j.bench.RoundTrip;
import org.ipi4j.sim.CostModel;
import org.ipi4j.smp.Broadcast;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The lab's command line; see {@code --help}. */
@Command(name = "lab", mixinStandardHelpOptions = true, versionProvider = LabCommand.Version.class,
    sortOptions = false, subcommands = {Compare.class, TortureCommand.class, TrialsCommand.class, MatrixCommand.class,
        LoadCommand.class, CalibrateCommand.class},
    description = {
        "Measures, on this machine, polling versus signalling and what it costs in CPU, next to the physical floors "
            + "and to the peers (ExecutorService, Agrona, the Disruptor), then cross-core calls and TLB shootdowns. "
            + "Writes report.md, report.html (charts) and results.json into --out as each figure completes.",
        "Run with --add-exports java.base/jdk.internal.misc=ALL-UNNAMED (the Agrona queue peer needs it on Java 17)."},
    footer = {"", "Examples:",
        "  lab --list",
        "  lab --variants ipi-spin,ipi-park --repeat 5 --csv --hlog",
        "  lab --variants smp,shootdown --cores 2,4,8,16",
        "  lab --simulate --sim-cores 2,16,128,1024 --seed 7",
        "  lab compare before/results.json after/results.json",
        "  lab torture --duration 10m                        (see lab torture --help)",
        "  lab trials --variants ipi-spin,call-spin          (interleaved trials; see lab trials --help)"})
public final class LabCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m)");

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "lab-report",
        description = "Directory for report.md, report.html and results.json (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--list", description = "List the round-trip variants and the parts, then exit.")
    private boolean list;

    @Option(names = "--variants", split = ",", paramLabel = "NAME",
        description = "What to run: round-trip variants (see --list) and parts (roundtrip = every variant, floors, "
            + "matrix, smp, shootdown, storm, virt, loadcurve, sim). Default: everything but sim (see --simulate). The floors the chosen figures "
            + "are compared with are added.")
    private List<String> variants;

    @Option(names = "--duration", paramLabel = "TIME", converter = DurationConverter.class,
        description = "Back-to-back measuring time of one round-trip trial, also capped at 100,000 round trips, e.g. "
            + "500ms, 2s (default 250ms; smoke 100ms).")
    private Duration duration;

    @Option(names = "--pace", paramLabel = "TIME", converter = DurationConverter.class,
        description = "Nominal interval between paced requests (default 50us). The report gives the achieved one.")
    private Duration pace;

    @Option(names = "--paced-samples", paramLabel = "N",
        description = "Paced requests per round-trip trial (default 2000; smoke 100).")
    private Integer pacedSamples;

    @Option(names = "--repeat", paramLabel = "N",
        description = "Repeats of every figure but the round trips; the report gives the median and [min-max] "
            + "(default 3; smoke 1).")
    private Integer repeat;

    @Option(names = "--rounds", paramLabel = "N",
        description = "Rounds of the round-trip part: each runs every variant once, back to back with its floor, in a "
            + "fresh random order; a ratio is the median over them (default 5; smoke 1).")
    private Integer rounds;

    @Option(names = "--cores", split = ",", paramLabel = "N", defaultValue = "2,4,8",
        description = "Core counts for the smp and shootdown parts (default: ${DEFAULT-VALUE}).")
    private List<Integer> cores;

    @Option(names = "--simulate", description = "Run the simulated part (alone, unless --variants names more): "
        + "onEachCore and one-page shootdown latency in virtual time against --sim-cores for flat, serial, tree(2,4,8) "
        + "and topology-aware multicast, an unmap storm with and without batching, and the prediction error: the same "
        + "figures at 2, 4 and 8 cores simulated and real. Same as --variants sim. Without --cost-model the run "
        + "calibrates the model on this host first (the calibration part).")
    private boolean simulate;

    @Option(names = "--cost-model", paramLabel = "FILE",
        description = "The simulated part's cost model: a file lab calibrate wrote (default: calibrate in this run).")
    private Path costModel;

    @Option(names = "--sim-cores", split = ",", paramLabel = "N",
        description = "Core counts of the simulated part, 2 to 1024 (default 2,4,...,1024; smoke 2,4,8,16,64).")
    private List<Integer> simCores;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
        description = "Seed of the simulated part (default: ${DEFAULT-VALUE}); the same seed gives the same figures.")
    private long seed;

    @Option(names = "--json", paramLabel = "FILE", description = "Where results.json goes (default: in --out).")
    private Path json;

    @Option(names = "--csv", arity = "0..1", paramLabel = "FILE", fallbackValue = "",
        description = "Also write the results as CSV (default file: results.csv in --out).")
    private String csv;

    @Option(names = "--hlog", arity = "0..1", paramLabel = "DIR", fallbackValue = "",
        description = "Write an HdrHistogram log per figure, one interval histogram per repeat (default: hlog/ in --out).")
    private String hlog;

    @Option(names = "--jfr", arity = "0..1", paramLabel = "FILE", fallbackValue = "",
        description = "Record a JFR file of the run with the JDK's default settings plus ipi4j's events "
            + "(default: lab.jfr in --out).")
    private String jfr;

    @Option(names = "--smoke", description = "Tiny counts: proves the lab works; its numbers mean nothing.")
    private boolean smoke;

    /**
     * Runs the lab with {@code args}.
     *
     * @param args the command line
     * @return the exit code: 0 success, 1 a step failed, 2 bad arguments
     */
    public static int run(final String... args) {
        return commandLine().execute(args);
    }

    /** {@return the command line, with bad arguments answered in one line and a pointer to --help} */
    static CommandLine commandLine() {
        final CommandLine cl = new CommandLine(new LabCommand());
        cl.setParameterExceptionHandler((e, args) -> {
            final CommandLine c = e.getCommandLine();
            c.getErr().println("lab: " + e.getMessage());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for the options.");
            c.getErr().flush();
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("lab: " + e.getMessage());
            if (!(e instanceof IOException)) {
                e.printStackTrace(c.getErr()); // a bug, not bad input: keep where it came from
            }
            c.getErr().flush();
            return 1;
        });
        return cl;
    }

    @Override
    public Integer call() throws Exception {
        final PrintWriter console = spec.commandLine().getOut();
        if (list) {
            list(console);
            return 0;
        }
        final Settings s = settings();
        final Path jsonFile = json != null ? json : out.resolve("results.json");
        final Path csvFile = csv == null ? null : csv.isEmpty() ? out.resolve("results.csv") : Path.of(csv);
        final Path hlogDir = hlog == null ? null : hlog.isEmpty() ? out.resolve("hlog") : Path.of(hlog);
        final Path jfrFile = jfr == null ? null : jfr.isEmpty() ? out.resolve("lab.jfr") : Path.of(jfr);
        final Map<String, Object> recorded = s.toMap();
        if (jfrFile != null) {
            recorded.put("jfr", jfrFile.toString());
        }
        if (hlogDir != null) {
            recorded.put("hlog", hlogDir.toString());
        }
        final Context context = Context.capture(recorded);
        try (Sink sink = new Sink(hlogDir); Recording recording = jfrFile == null ? null : startJfr()) {
            final int code = new LabRun(s, context, out, jsonFile, csvFile, console).run(steps(s, sink, out));
            if (recording != null) {
                recording.dump(jfrFile);
                console.println("[lab] JFR recording: " + jfrFile);
            }
            return code;
        }
    }

    private Settings settings() {
        final List<String> all = RoundTrip.variants();
        final Set<String> chosen = new LinkedHashSet<>();
        final Set<String> parts = new LinkedHashSet<>();
        if (variants == null || variants.isEmpty()) {
            if (!simulate) { // everything measured on this host; --simulate alone runs only the simulated part
                chosen.addAll(all);
                parts.addAll(Settings.PARTS);
                parts.remove("sim");
            }
        } else {
            for (final String raw : variants) {
                final String v = raw.trim();
                if (v.equals("roundtrip")) {
                    chosen.addAll(all);
                    parts.add(v);
                } else if (Settings.PARTS.contains(v)) {
                    parts.add(v);
                } else if (all.contains(v)) {
                    chosen.add(v);
                    parts.add("roundtrip");
                } else {
                    throw new ParameterException(spec.commandLine(), "unknown variant or part '" + v + "' (see --list)");
                }
            }
        }
        // Every ratio needs its floor from the same run.
        final Set<String> floors = new LinkedHashSet<>();
        for (final String v : chosen) {
            try (RoundTrip rt = RoundTrip.create(v)) {
                final String f = RoundTripPart.floorName(rt.floor());
                if (f != null) {
                    floors.add(f);
                }
            }
        }
        if (parts.contains("smp") || parts.contains("shootdown") || parts.contains("virt")) {
            floors.add("floor-park");
        }
        final List<String> ordered = new ArrayList<>();
        for (final String v : all) {
            if (chosen.contains(v) || floors.contains(v)) {
                ordered.add(v);
            }
        }
        if (!ordered.isEmpty()) {
            parts.add("roundtrip");
        }
        final Duration d = duration != null ? duration : Duration.ofMillis(smoke ? 100 : 250);
        final Duration p = pace != null ? pace : Duration.ofNanos(50_000);
        final int samples = pacedSamples != null ? pacedSamples : smoke ? 100 : 2000;
        final int reps = repeat != null ? repeat : smoke ? 1 : 3;
        final int trips = rounds != null ? rounds : smoke ? 1 : 5;
        check(d.toNanos() > 0, "--duration must be positive, not " + d);
        check(p.toNanos() > 0, "--pace must be positive, not " + p);
        check(samples >= 1, "--paced-samples must be at least 1, not " + samples);
        check(reps >= 1, "--repeat must be at least 1, not " + reps);
        check(trips >= 1, "--rounds must be at least 1, not " + trips);
        for (final int n : cores) {
            check(n >= 1 && n <= 1024, "--cores takes core counts from 1 to 1024, not " + n);
        }
        if (simulate) {
            parts.add("sim");
        }
        final List<Integer> sims = simCores != null ? simCores : smoke ? List.of(2, 4, 8, 16, 64) : Settings.SIM_CORES;
        for (final int n : sims) {
            check(n >= 2 && n <= 1024, "--sim-cores takes core counts from 2 to 1024, not " + n);
        }
        final CostModel model = costModel == null ? null : readCostModel(costModel);
        if (parts.contains("sim") && model == null) {
            parts.add("calibration"); // the simulated part predicts with a calibrated model
        }
        return new Settings(smoke, d, p, samples, reps, trips, List.copyOf(cores), ordered,
            Settings.PARTS.stream().filter(parts::contains).toList(), List.copyOf(sims), seed, model);
    }

    private CostModel readCostModel(final Path file) {
        try {
            return CostModel.read(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--cost-model: cannot read " + file + ": "
                + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
    }

    private void check(final boolean ok, final String message) {
        if (!ok) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    private static List<LabRun.Step> steps(final Settings s, final Sink sink, final Path out) {
        final List<LabRun.Step> steps = new ArrayList<>();
        // The simulated part's model: the --cost-model file's, else the one the calibrate step measures.
        final AtomicReference<CostModel> model = new AtomicReference<>(s.costModel());
        if (s.parts().contains("roundtrip")) {
            steps.addAll(RoundTripPart.steps(s, sink)); // interleaved: every round runs each variant once, shuffled
        }
        if (s.parts().contains("floors")) {
            steps.add(new LabRun.Step("floors: ipi-spin, ipi-park, shootdown-spin beside host-ipi, host-shootdown, "
                + "interleaved", () -> FloorsPart.measure(s)));
        }
        if (s.parts().contains("matrix")) {
            steps.add(new LabRun.Step("core-to-core matrix", () -> MatrixPart.measure(s)));
        }
        if (s.parts().contains("smp")) {
            for (final int n : s.cores()) {
                for (final Broadcast shape : new Broadcast[] {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2)}) {
                    steps.add(new LabRun.Step("cross-core call " + shape + " to " + n + " cores",
                        () -> CallPart.calls(n, shape, s, sink)));
                }
            }
        }
        if (s.parts().contains("shootdown")) {
            for (final int n : s.cores()) {
                steps.add(new LabRun.Step("shootdown on " + n + " cores", () -> CallPart.shootdown(n, s, sink)));
            }
        }
        if (s.parts().contains("storm")) {
            steps.add(new LabRun.Step("unmap storm page by page", () -> CallPart.storm(false, s)));
            steps.add(new LabRun.Step("unmap storm batched", () -> CallPart.storm(true, s)));
        }
        if (s.parts().contains("virt")) {
            for (final int k : new int[] {0, 1, 2}) {
                for (final boolean on : new boolean[] {true, false}) {
                    steps.add(new LabRun.Step("shootdown with " + k + " preempted, PV " + (on ? "on" : "off"),
                        () -> VirtPart.pvFlush(k, on, s, sink)));
                }
            }
            for (final int n : s.cores()) {
                for (final boolean bc : new boolean[] {false, true}) {
                    steps.add(new LabRun.Step("shootdown on " + n + " cores, " + (bc ? "broadcast" : "IPIs"),
                        () -> VirtPart.broadcast(n, bc, s, sink)));
                }
            }
            for (final boolean preempted : new boolean[] {false, true}) {
                for (final org.ipi4j.interrupts.DeliveryMode mode : org.ipi4j.interrupts.DeliveryMode.values()) {
                    steps.add(new LabRun.Step("3-vector bursts to a " + (preempted ? "preempted" : "parked") + " core, "
                        + mode, () -> VirtPart.posted(mode, preempted, s, sink)));
                }
            }
            for (final int n : s.cores()) {
                for (final boolean on : new boolean[] {true, false}) {
                    steps.add(new LabRun.Step("call to " + n + " cores, PV send-IPI " + (on ? "on" : "off"),
                        () -> VirtPart.sendIpi(n, on, s)));
                }
            }
            for (final boolean on : new boolean[] {true, false}) {
                steps.add(new LabRun.Step("call to a preempted core, yield " + (on ? "on" : "off"),
                    () -> VirtPart.yieldToPreempted(on, s, sink)));
            }
        }
        if (s.parts().contains("loadcurve")) {
            steps.addAll(LoadPart.steps(LoadPart.Plan.of(s))); // interleaved: every round runs each curve once, shuffled
        }
        if (s.parts().contains("calibration")) {
            steps.add(new LabRun.Step("calibrate the cost model on this host", () -> CalibrateCommand.step(s,
                out.resolve(CalibrateCommand.FILE), model)));
        }
        if (s.parts().contains("sim")) {
            steps.addAll(SimPart.steps(s, () -> current(model)));
        }
        return steps;
    }

    /** The model set, or the defaults if the calibration that should have set it failed (the report names that failure). */
    private static CostModel current(final AtomicReference<CostModel> model) {
        final CostModel m = model.get();
        return m != null ? m : CostModel.defaults();
    }

    private static void list(final PrintWriter console) {
        console.println("Round-trip variants (name, family, compared with):");
        for (final String v : RoundTrip.variants()) {
            try (RoundTrip rt = RoundTrip.create(v)) {
                final String floor = RoundTripPart.floorName(rt.floor());
                console.printf(Locale.ROOT, "  %-20s %-6s %s%n", v, rt.family(), floor == null ? "" : floor);
            }
        }
        console.println("Parts: roundtrip (every variant above), floors (ipi-spin, ipi-park and shootdown-spin beside "
            + "the host's real IPI and shootdown, host-ipi and host-shootdown, and the floors, as interleaved trials), "
            + "matrix (the host's core-to-core latency, the topology it implies, the hypervisor flag), smp (waited calls: flat, serial, tree(2) per --cores), "
            + "shootdown (one page, per --cores), storm (64-page unmap, page by page and batched), virt (preempted "
            + "cores and PV TLB flush, broadcast invalidation, posted interrupts, PV send-IPI exits, directed yield), "
            + "loadcurve (throughput and latency against offered load, open loop, 1 and 2 callers: IPI, waited and async "
            + "call, Sharded.invokeOn, Disruptor, executor; also lab load), calibration "
            + "(this host's cost model, written as cost-model.properties; also lab calibrate), sim (simulated machines of "
            + "--sim-cores cores in virtual time, and the prediction error against the real machine at 2, 4 and 8 cores; "
            + "also --simulate)");
    }

    private static Recording startJfr() throws IOException, java.text.ParseException {
        final Map<String, String> settings = new HashMap<>(Configuration.getConfiguration("default").getSettings());
        try (Reader r = new InputStreamReader(LabCommand.class.getResourceAsStream("/org/ipi4j/observability/ipi4j.jfc"),
                StandardCharsets.UTF_8)) {
            settings.putAll(Configuration.create(r).getSettings());
        }
        final Recording recording = new Recording(settings);
        recording.setName("ipi4j-lab");
        recording.start();
        return recording;
    }

    /** Durations as 50us, 500ms, 1.5s, 2m, 100ns, or ISO-8601 (PT1S). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(final String value) {
            final Matcher m = DURATION.matcher(value.trim());
            if (m.matches()) {
                final double n = Double.parseDouble(m.group(1));
                final double nanos = switch (m.group(2)) {
                    case "ns" -> n;
                    case "us" -> n * 1e3;
                    case "ms" -> n * 1e6;
                    case "s" -> n * 1e9;
                    default -> n * 60e9;
                };
                return Duration.ofNanos(Math.round(nanos));
            }
            try {
                return Duration.parse(value.trim());
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (try 50us, 500ms, 2s)");
            }
        }
    }

    /** The version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"ipi4j lab " + Context.buildProperty("version")};
        }
    }
}
