package org.ipi4j.bench.lab;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import org.ipi4j.sim.CostModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code lab calibrate}: measures this host's cost model ({@link Calibration}) and writes it, with
 * its provenance, as {@code cost-model.properties} in {@code --out}, for
 * {@code lab --simulate --cost-model FILE}. Not thread-safe: one instance per command line.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Measures on this host what the simulation's cost model needs (a send, the wake-up of a parked core, "
        + "interrupt entry, a one-page and a full flush, the latency per distance of the host's topology, what reaching a "
        + "core that shares a host CPU costs, a spin round) as interleaved repeats, derives each figure by the formula "
        + "its provenance line names, and writes DIR/cost-model.properties."},
    footer = {"", "Examples:",
        "  lab calibrate --out calib",
        "  lab --simulate --cost-model calib/cost-model.properties"})
final class CalibrateCommand implements Callable<Integer> {
    /** The file's name in {@code --out}. */
    static final String FILE = "cost-model.properties";

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "lab-report",
        description = "Directory for " + FILE + " (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "9",
        description = "Interleaved repeats of every probe; each figure is their median (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "5000",
        description = "Samples per probe and repeat (default: ${DEFAULT-VALUE}).")
    private int samples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the probes' order.")
    private long seed;

    @Override
    public Integer call() throws Exception {
        if (repeat < 1) {
            throw new ParameterException(spec.commandLine(), "--repeat must be at least 1, not " + repeat);
        }
        if (samples < 10) {
            throw new ParameterException(spec.commandLine(), "--samples must be at least 10, not " + samples);
        }
        final PrintWriter console = spec.commandLine().getOut();
        final Path file = out.resolve(FILE);
        final CostModel model = run(repeat, samples, seed, file);
        console.println("[lab calibrate] wrote " + file);
        model.provenance().forEach((k, v) -> console.printf(Locale.ROOT, "  %s: %s%n", k, v));
        console.println("  model: " + model);
        console.flush();
        return 0;
    }

    /**
     * Measures the host and writes its model to {@code file}.
     *
     * @return the model written
     */
    static CostModel run(final int repeat, final int samples, final long seed, final Path file) throws Exception {
        final CoreToCore.Matrix matrix = CoreToCore.measure();
        final double[] hops = Calibration.hopByDistance(matrix);
        final Calibration.Figures f = Calibration.measure(repeat, samples, seed, hops[1]);
        final CostModel model = model(f, hops, provenance(repeat, samples, matrix));
        Files.createDirectories(file.toAbsolutePath().getParent());
        model.write(file);
        return model;
    }

    /**
     * The main job's calibration: short (a few seconds; the smoke run's tiny), written to
     * {@code file}, and handed to {@code model} for the simulated part of the same run.
     *
     * @return the figures measured and the model's parameters, as a result of the "calibration" part
     */
    static Result step(final Settings s, final Path file, final AtomicReference<CostModel> model) throws Exception {
        final int samples = s.smoke() ? 50 : 1500;
        final int repeat = Math.max(3, s.repeat());
        final CostModel m = run(repeat, samples, s.seed(), file);
        model.set(m);
        final Result r = new Result("calibration", "calibration", "cost model", null);
        r.addRepeat(figures(m));
        r.info().put("file", file.toString());
        r.info().putAll(m.provenance());
        return r;
    }

    /** The model's parameters, in nanoseconds (host CPUs a count), as metrics. */
    static Map<String, Double> figures(final CostModel m) {
        final Map<String, Double> f = new LinkedHashMap<>();
        f.put("send_ns", (double) m.send());
        f.put("unpark_ns", (double) m.prices().get(CostModel.UNPARK));
        f.put("latency_same_complex_ns", (double) m.hop(1));
        f.put("wake_ns", (double) m.wake());
        f.put("interrupt_ns", (double) m.interrupt());
        f.put("flush_page_ns", (double) m.flushPage());
        f.put("flush_all_ns", (double) m.flushAll());
        f.put("spin_ns", (double) m.spin());
        f.put("context_switch_ns", (double) m.contextSwitch());
        f.put("host_cpus", (double) m.hostCpus());
        return f;
    }

    /**
     * The cost model the figures imply: each parameter by its formula in {@link Calibration.Figures}, the
     * latency per distance from {@code hopByDistance} (index 1 to 3; NaN: not measured on this
     * host, the default stays and the provenance says so), {@code hostCpus} and
     * {@code contextSwitch} for oversubscription, and the provenance given plus one line per figure
     * saying what it rests on.
     */
    /**
     * The cost model the figures imply: each parameter by its formula in {@link Calibration.Figures}, the
     * latency per distance from {@code hopByDistance} (index 1 to 3; NaN: not measured on this
     * host, the default stays and the provenance says so), {@code hostCpus} and
     * {@code contextSwitch} for oversubscription, and the provenance given plus one line per figure
     * saying what it rests on.
     */
    static CostModel model(final Calibration.Figures f, final double[] hopByDistance, final Map<String, String> provenance) {
        final CostModel defaults = CostModel.defaults();
        final long[] hop = new long[4];
        final String[] names = {"", "latency.sameComplex", "latency.sameSocket", "latency.crossSocket"};
        final CostModel.Builder b = defaults.toBuilder();
        provenance.forEach(b::provenance);
        for (int d = 1; d <= 3; d++) {
            if (Double.isNaN(hopByDistance[d])) {
                hop[d] = defaults.hop(d);
                b.provenance(names[d], "not measured (the host has no core pair at this distance): the default");
            } else {
                hop[d] = Math.max(0, Math.round(hopByDistance[d]));
                b.provenance(names[d], "core-to-core one-way median at distance " + d);
            }
        }
        b.send(f.send()).latency(hop[1], hop[2], hop[3]).wake(f.wake()).interrupt(f.interrupt())
            .flush(f.flushPage(), f.flushAll()).spin(f.spin()).hostCpus(f.hostCpus()).price(CostModel.UNPARK, f.unpark());
        b.provenance("send", "sender's time in the send call to a spinning core");
        b.provenance("price.unpark", "sender's time in the send call to a parked core - to a spinning one");
        f.toMap().forEach((k, v) -> b.provenance("measured." + k, String.format(Locale.ROOT, "%.1f", v)));
        b.provenance("wake", "ping-park rtt / 2 - send to a parked core (send + unpark) - hop - interrupt; a spinning "
            + "core's wake-up is the hop (it sees the bit at its next poll): the simulation parks every idle core");
        b.provenance("interrupt", "ping-spin rtt / 2 - send spinning - hop");
        b.provenance("flush.page", "handler time of a one-page flush");
        b.provenance("flush.all", "handler time of a full flush");
        b.provenance("spin", "one Thread.onSpinWait");
        if (Double.isNaN(f.sameCpuHandOff())) {
            b.contextSwitch(0);
            b.provenance("contextSwitch", "not measured (threads could not be pinned to one CPU): 0");
        } else {
            b.contextSwitch(f.contextSwitch());
            b.provenance("contextSwitch", "one-way park/unpark hand-off between two threads pinned to one host CPU");
        }
        return b.build();
    }

    /** Where the figures come from: host, date, commit, java, and how they were measured. */
    static Map<String, String> provenance(final int repeat, final int samples, final CoreToCore.Matrix matrix) {
        final Map<String, String> p = new LinkedHashMap<>();
        p.put("host", hostName());
        p.put("date", Instant.now().toString());
        p.put("commit", Context.buildProperty("version") + " " + Context.commit());
        p.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        p.put("measured", repeat + " interleaved repeats x " + samples + " samples per probe; " + matrix.cpus()
            + " host CPUs, topology " + CoreToCore.topology(matrix) + (matrix.hypervisor() ? ", under a hypervisor" : ""));
        return p;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
