package org.ipi4j.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;
import org.ipi4j.Machine;
import org.ipi4j.Pinning;
import org.ipi4j.idle.IdlePolicy;
import org.ipi4j.interrupts.CpuSet;
import org.ipi4j.mm.AddressSpace;
import org.ipi4j.mm.Pte;
import org.ipi4j.mm.ShootdownStats;
import org.ipi4j.observability.Percentiles;
import org.ipi4j.smp.Broadcast;
import org.ipi4j.smp.SmpCall;

/**
 * The latency lab: one command that measures, on this machine, polling versus signalling and
 * what it costs in CPU, next to the physical floors and to the peers, and writes a report
 * (Markdown and a self-contained HTML page with the latency/CPU frontier chart).
 *
 * <p>Usage: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp bench/target/benchmarks.jar
 * org.ipi4j.bench.Lab [--smoke] [--out DIR]}. {@code --smoke} runs every part with tiny counts
 * (for CI: it proves the lab works; its numbers mean nothing).
 */
public final class Lab {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final boolean smoke;
    private final Path out;
    private final StringBuilder md = new StringBuilder();
    private final List<RoundTripResult> roundTrips = new ArrayList<>();
    private int step;
    private final int steps;

    /** Round-trip measurements of one variant. */
    record RoundTripResult(String name, String family, RoundTrip.Floor floor, Percentiles backToBack,
                           Percentiles paced, double cpuNanosPerMsgPaced, double cpuNanosPerMsgBackToBack,
                           int pinnedCpu) {
    }

    private Lab(final boolean smoke, final Path out) {
        this.smoke = smoke;
        this.out = out;
        this.steps = RoundTrip.variants().size() + 2;
    }

    public static void main(final String[] args) throws Exception {
        boolean smoke = false;
        Path out = Path.of("lab-report");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> smoke = true;
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--smoke, --out DIR)");
            }
        }
        new Lab(smoke, out).run();
    }

    private void progress(final String what) {
        step++;
        System.out.printf("[lab %2d/%d] %s%n", step, steps, what);
    }

    private void run() throws Exception {
        final long started = System.nanoTime();
        if (!THREADS.isThreadCpuTimeSupported()) {
            System.out.println("[lab] thread CPU time is not supported here: CPU cost columns will read 0");
        } else {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        header();
        roundTripSection();
        smpSection();
        shootdownSection();
        md.append("\n_Lab ran in ").append(Duration.ofNanos(System.nanoTime() - started).toSeconds()).append(" s")
            .append(smoke ? " in smoke mode: these numbers are not measurements._" : "._").append('\n');
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("report.html"), html(), StandardCharsets.UTF_8);
        System.out.println("[lab] report: " + out.resolve("report.md") + " and " + out.resolve("report.html"));
    }

    private void header() {
        final Runtime rt = Runtime.getRuntime();
        md.append("# ipi4j lab report\n\n");
        md.append("| host | |\n|---|---|\n");
        md.append("| date | ").append(Instant.now()).append(" |\n");
        md.append("| host CPUs | ").append(rt.availableProcessors()).append(" |\n");
        md.append("| CPU | ").append(cpuModel()).append(" |\n");
        md.append("| OS | ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"))
            .append(' ').append(System.getProperty("os.arch")).append(" |\n");
        md.append("| JVM | ").append(System.getProperty("java.vm.name")).append(' ')
            .append(System.getProperty("java.runtime.version")).append(" |\n");
        md.append("| mode | ").append(smoke ? "smoke (tiny counts, numbers meaningless)" : "lab").append(" |\n\n");
        md.append("Every round trip: the caller publishes a request and spin-waits for the acknowledgement, the same in "
            + "every variant, so differences are the receiving side's. *Back-to-back* sends the next request at once; "
            + "*paced* waits 50 us between requests, so a responder that polls burns CPU in the gaps, and that is what "
            + "*CPU/msg* charges: the responder threads' CPU time divided by messages. Ratios compare a variant's "
            + "median with its floor measured in this same run: raw volatile spin ping-pong for polling variants, raw "
            + "LockSupport park/unpark ping-pong for signalling ones.\n\n");
    }

    private static String cpuModel() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: leave it unnamed
        }
        return "unknown";
    }

    // =====================================================================================
    // Round trips: floors, ipi4j per idle policy, peers
    // =====================================================================================

    private void roundTripSection() throws Exception {
        final int warm = smoke ? 200 : 20_000;
        final int backToBack = smoke ? 500 : 100_000;
        final int paced = smoke ? 100 : 10_000;
        for (final String variant : RoundTrip.variants()) {
            progress("round trip " + variant);
            try (RoundTrip rt = RoundTrip.create(variant)) {
                for (int i = 0; i < warm; i++) {
                    rt.roundTrip();
                }
                final Histogram b2b = new Histogram(3);
                long cpu0 = cpu(rt);
                // Count-bounded, and time-bounded so the slow pollers do not dominate the run.
                final long until = System.nanoTime() + (smoke ? 200_000_000L : 5_000_000_000L);
                int sent = 0;
                while (sent < backToBack && (sent < 1000 || System.nanoTime() < until)) {
                    final long t = System.nanoTime();
                    rt.roundTrip();
                    b2b.recordValue(System.nanoTime() - t);
                    sent++;
                }
                final double cpuB2b = (double) (cpu(rt) - cpu0) / sent;
                final Histogram p = new Histogram(3);
                cpu0 = cpu(rt);
                for (int i = 0; i < paced; i++) {
                    LockSupport.parkNanos(50_000);
                    final long t = System.nanoTime();
                    rt.roundTrip();
                    p.recordValue(System.nanoTime() - t);
                }
                final double cpuPaced = (double) (cpu(rt) - cpu0) / paced;
                roundTrips.add(new RoundTripResult(rt.name(), rt.family(), rt.floor(), Percentiles.of(b2b),
                    Percentiles.of(p), cpuPaced, cpuB2b, rt.pinnedCpu()));
            }
        }
        final RoundTripResult spin = find("floor-spin");
        final RoundTripResult park = find("floor-park");
        md.append("## Round trip: send, handle, acknowledge\n\n");
        md.append("Responder: 1 thread (or a 1-core ipi4j machine); caller: the lab's thread. 2 threads on ")
            .append(Runtime.getRuntime().availableProcessors()).append(" host CPUs")
            .append(Runtime.getRuntime().availableProcessors() < 2 ? " (oversubscribed)" : "").append(".\n\n");
        md.append("| variant | family | pinned | b2b p50 | b2b p99 | b2b p99.9 | paced p50 | paced p99 | paced p99.9 "
            + "| p50 vs floor | CPU/msg paced | CPU/msg b2b |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (final RoundTripResult r : roundTrips) {
            final RoundTripResult floor = r.floor() == RoundTrip.Floor.PARK ? park : spin;
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                r.name(), r.family(), r.pinnedCpu() >= 0 ? "cpu " + r.pinnedCpu() : "no",
                us(r.backToBack().p50()), us(r.backToBack().p99()), us(r.backToBack().p999()),
                us(r.paced().p50()), us(r.paced().p99()), us(r.paced().p999()),
                String.format(Locale.ROOT, "%.2fx %s", (double) r.paced().p50() / Math.max(1, floor.paced().p50()),
                    floor.name()),
                us((long) r.cpuNanosPerMsgPaced()), us((long) r.cpuNanosPerMsgBackToBack())));
        }
        md.append("\nThe frontier (paced median latency against CPU per message) is charted in report.html.\n\n");
    }

    private RoundTripResult find(final String name) {
        return roundTrips.stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    private static long cpu(final RoundTrip rt) {
        long total = 0;
        for (final Thread t : rt.responderThreads()) {
            final long c = THREADS.getThreadCpuTime(t.getId());
            if (c > 0) {
                total += c;
            }
        }
        return total;
    }

    // =====================================================================================
    // Cross-core calls
    // =====================================================================================

    private void smpSection() {
        progress("cross-core calls: flat / serial / tree(2), 2-8 cores");
        final int calls = smoke ? 100 : 5_000;
        final int[] sizes = {2, 4, 8};
        final Broadcast[] shapes = {Broadcast.flat(), Broadcast.serial(), Broadcast.tree(2)};
        final RoundTripResult park = find("floor-park");
        md.append("## Cross-core calls with wait (onEachCore, from an outside thread)\n\n");
        md.append("Cores park when idle. Compared with the LockSupport floor (one park/unpark round trip) of this run: ")
            .append(us(park.paced().p50())).append(" median.\n\n");
        md.append("| cores | oversubscribed | broadcast | rounds | p50 | p99 | p99.9 | p50 vs park floor |\n");
        md.append("|---:|---|---|---:|---:|---:|---:|---:|\n");
        for (final int n : sizes) {
            for (final Broadcast shape : shapes) {
                try (Machine m = Machine.builder().name("lab-smp").cores(n).idlePolicy(IdlePolicy.park())
                    .pinning(Pinning.BEST_EFFORT).build().start()) {
                    final SmpCall smp = SmpCall.install(m, Duration.ofSeconds(10), shape);
                    final CpuSet all = CpuSet.firstN(n);
                    for (int i = 0; i < calls / 5; i++) {
                        smp.run(all, null, cpu -> { }, shape);
                    }
                    final Histogram h = new Histogram(3);
                    for (int i = 0; i < calls; i++) {
                        final long t = System.nanoTime();
                        smp.run(all, null, cpu -> { }, shape);
                        h.recordValue(System.nanoTime() - t);
                    }
                    final var probe = smp.runAsync(all, null, cpu -> { }, shape);
                    probe.join();
                    final int rounds = probe.rounds();
                    final Percentiles p = Percentiles.of(h);
                    md.append(String.format(Locale.ROOT, "| %d | %s | %s | %d | %s | %s | %s | %.1fx |%n", n,
                        m.oversubscribed() ? "yes" : "no", shape, rounds, us(p.p50()), us(p.p99()), us(p.p999()),
                        (double) p.p50() / Math.max(1, park.paced().p50())));
                }
            }
        }
        md.append('\n');
    }

    // =====================================================================================
    // Shootdown
    // =====================================================================================

    private void shootdownSection() throws Exception {
        progress("TLB shootdown: latency vs cores, per-page vs batched");
        final int rounds = smoke ? 50 : 2_000;
        md.append("## TLB shootdown\n\n");
        md.append("Every core runs the address space and idles parked; an outside thread revokes write on one page "
            + "(one shootdown) and gives it back (no shootdown). *Window* is the library's own illegal-access window "
            + "(PTE change to the last target's invalidation), with its parts. *Storm cost*: core-seconds stalled "
            + "(targets' handler time plus the initiator's wait) per second of the run.\n\n");
        md.append("| cores | oversubscribed | shootdown p50 | p99 | p99.9 | p50 vs park floor | window p50 | window p99 "
            + "| delivery p50 | irq-off delay p99 | handler p50 | storm cost | stale after return |\n");
        md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        final RoundTripResult park = find("floor-park");
        for (final int n : new int[] {2, 4, 8}) {
            try (SpaceRig rig = new SpaceRig("lab-mm", n, Broadcast.flat())) {
                final AddressSpace as = rig.as;
                final Histogram h = new Histogram(3);
                for (int i = 0; i < rounds; i++) {
                    final long t = System.nanoTime();
                    as.protect(0, 1, Pte.READ);
                    h.recordValue(System.nanoTime() - t);
                    as.protect(0, 1, Pte.READ | Pte.WRITE);
                }
                final Percentiles p = Percentiles.of(h);
                final ShootdownStats st = as.stats();
                md.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %.1fx | %s | %s | %s | %s | %s | %.3f | %d |%n", n,
                    rig.machine.oversubscribed() ? "yes" : "no", us(p.p50()), us(p.p99()), us(p.p999()),
                    (double) p.p50() / Math.max(1, park.paced().p50()),
                    us(st.window().p50()), us(st.window().p99()), us(st.delivery().p50()), us(st.irqOffDelay().p99()),
                    us(st.handler().p50()), st.stormCost(), st.violations()));
            }
        }
        md.append("\n### Unmap storm: 64 pages on 4 cores").append(4 > Machine.hostCpus() ? " (oversubscribed)" : "")
            .append(", page by page versus one mmu_gather\n\n");
        md.append("| strategy | shootdowns | call IPIs | pages/s | full flushes on targets |\n|---|---:|---:|---:|---:|\n");
        final int storms = smoke ? 5 : 200;
        for (final boolean batched : new boolean[] {false, true}) {
            try (SpaceRig rig = new SpaceRig("lab-mm", 4, Broadcast.flat())) {
                final AddressSpace as = rig.as;
                final long ipis0 = rig.smp.ipisSent();
                final long t = System.nanoTime();
                for (int s = 0; s < storms; s++) {
                    if (batched) {
                        rig.revokeAllBatched();
                    } else {
                        rig.revokeAllPerPage();
                    }
                    rig.restore();
                }
                final double secs = (System.nanoTime() - t) / 1e9;
                final ShootdownStats st = as.stats();
                md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %d |%n", batched ? "batched (gather)" : "per page",
                    st.shootdowns(), rig.smp.ipisSent() - ipis0, storms * SpaceRig.PAGES / secs, st.fullFlushes()));
            }
        }
        md.append('\n');
    }

    // =====================================================================================
    // Formatting
    // =====================================================================================

    private static String us(final long nanos) {
        if (nanos < 10_000) {
            return String.format(Locale.ROOT, "%.2f us", nanos / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f us", nanos / 1e3);
    }

    private String html() {
        final StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ipi4j lab report</title><style>")
            .append("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}")
            .append("table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px}")
            .append("th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}")
            .append("</style></head><body>\n");
        h.append(frontierSvg());
        h.append(markdownToHtml(md.toString()));
        h.append("</body></html>\n");
        return h.toString();
    }

    /** Paced median latency (log x) against CPU per message (log y), one point per variant. */
    private String frontierSvg() {
        final int w = 900;
        final int ht = 480;
        final int left = 80;
        final int bottom = 60;
        final double minX = 0.1;
        final double maxX = 1000; // us
        final double minY = 0.1;
        final double maxY = 1000; // us
        final StringBuilder s = new StringBuilder();
        s.append("<h2>Polling versus signal: the frontier</h2><p>Paced round trips (a request every 50 us). "
            + "Left is faster, down is cheaper; the points nearest the origin make the frontier.</p>\n");
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(w).append("\" height=\"").append(ht)
            .append("\" style=\"background:#fff;border:1px solid #ddd\">\n");
        for (double v = minX; v <= maxX * 1.001; v *= 10) {
            final double x = left + (Math.log10(v) - Math.log10(minX)) / (Math.log10(maxX) - Math.log10(minX)) * (w - left - 20);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                + "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s us</text>%n", x, x, ht - bottom, x,
                ht - bottom + 15, fmt(v)));
        }
        for (double v = minY; v <= maxY * 1.001; v *= 10) {
            final double y = (ht - bottom) - (Math.log10(v) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY)) * (ht - bottom - 10);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s us</text>%n", left, y, w - 20, y,
                left - 5, y + 4, fmt(v)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\">median round-trip "
            + "latency (paced)</text>%n", (w + left) / 2, ht - 15));
        s.append(String.format(Locale.ROOT, "<text x=\"15\" y=\"%d\" font-size=\"13\" transform=\"rotate(-90 15 %d)\" "
            + "text-anchor=\"middle\">responder CPU per message</text>%n", (ht - bottom) / 2, (ht - bottom) / 2));
        // Points cluster (parkers around the park floor, spinners around the spin floor): stagger
        // the labels of neighbours so they stay readable.
        final int[] labelOffsets = {-6, 12, -18, 24, -30, 36};
        int nth = 0;
        for (final RoundTripResult r : roundTrips) {
            final int dy = labelOffsets[nth++ % labelOffsets.length];
            final double lx = clamp(r.paced().p50() / 1e3, minX, maxX);
            final double ly = clamp(r.cpuNanosPerMsgPaced() / 1e3, minY, maxY);
            final double x = left + (Math.log10(lx) - Math.log10(minX)) / (Math.log10(maxX) - Math.log10(minX)) * (w - left - 20);
            final double y = (ht - bottom) - (Math.log10(ly) - Math.log10(minY)) / (Math.log10(maxY) - Math.log10(minY)) * (ht - bottom - 10);
            final String color = switch (r.family()) {
                case "floor" -> "#888";
                case "ipi4j" -> "#d62728";
                default -> "#1f77b4";
            };
            s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>"
                + "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"0.5\"/>"
                + "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">%s</text>%n", x, y, color, x, y, x + 7, y + dy,
                color, x + 8, y + dy, color, r.name()));
        }
        s.append("</svg><p><span style=\"color:#d62728\">ipi4j</span> · <span style=\"color:#1f77b4\">peers</span> · "
            + "<span style=\"color:#888\">floors</span></p>\n");
        return s.toString();
    }

    private static double clamp(final double v, final double lo, final double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static String fmt(final double v) {
        return v < 1 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v);
    }

    /** Just enough Markdown for this report: headings, paragraphs, tables, emphasis. */
    private static String markdownToHtml(final String markdown) {
        final StringBuilder h = new StringBuilder();
        boolean inTable = false;
        for (final String raw : markdown.split("\n")) {
            final String line = escape(raw);
            if (line.startsWith("|")) {
                if (line.matches("\\|[-:| ]+\\|")) {
                    continue;
                }
                if (!inTable) {
                    h.append("<table>\n");
                    inTable = true;
                }
                final String[] cells = line.substring(1, line.length() - 1).split("\\|");
                h.append("<tr>");
                for (final String c : cells) {
                    h.append("<td>").append(emphasis(c.trim())).append("</td>");
                }
                h.append("</tr>\n");
                continue;
            }
            if (inTable) {
                h.append("</table>\n");
                inTable = false;
            }
            if (line.startsWith("### ")) {
                h.append("<h3>").append(line.substring(4)).append("</h3>\n");
            } else if (line.startsWith("## ")) {
                h.append("<h2>").append(line.substring(3)).append("</h2>\n");
            } else if (line.startsWith("# ")) {
                h.append("<h1>").append(line.substring(2)).append("</h1>\n");
            } else if (!line.isBlank()) {
                h.append("<p>").append(emphasis(line)).append("</p>\n");
            }
        }
        if (inTable) {
            h.append("</table>\n");
        }
        return h.toString();
    }

    private static String emphasis(final String s) {
        return s.replaceAll("\\*([^*]+)\\*", "<em>$1</em>").replaceAll("_([^_]+)_", "<em>$1</em>");
    }

    private static String escape(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
