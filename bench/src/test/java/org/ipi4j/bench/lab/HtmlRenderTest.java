package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens report.html in headless Chromium (Debian's {@code chromium}; {@code -Dlab.browser=PATH}
 * names another) and checks that the scripts ran: every chart was drawn (ECharts' SVG is in the
 * DOM), and no script error reached the page or the browser's console. Without a browser the test
 * fails and says how to install one: the README's test command needs it.
 */
@Timeout(180)
class HtmlRenderTest {
    @Test
    void theReportRendersEveryChartWithoutScriptErrors(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("--smoke", "--variants", "ipi-spin,ipi-park,executor,storm",
            "--out", dir.toString());
        assertThat(run.code()).as(run.err()).isZero();
        final Path page = dir.resolve("report.html");
        // families in the run: floor, ipi4j, peer -> the frontier plus one distribution chart each
        final Dom dom = render(page, dir.resolve("profile"));
        assertThat(dom.html()).contains("data-rendered=\"4\"");
        assertThat(errorsElement(dom.html())).as("errors written into the page").isEmpty();
        assertThat(dom.consoleErrors()).as("browser console").isEmpty();
        assertThat(count(dom.html(), "<svg")).isGreaterThanOrEqualTo(4);
        // Labels of the plotted variants are in the chart, and the context table comes before it.
        assertThat(dom.html()).contains("ipi-park", "executor", "floor-spin");
        assertThat(dom.html().indexOf("ipi4j version")).isLessThan(dom.html().indexOf("id=\"frontier\""));
    }

    @Test
    void theSimulatedPartDrawsItsTwoCharts(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("--simulate", "--smoke", "--sim-cores", "2,8,32", "--out",
            dir.toString());
        assertThat(run.code()).as(run.err()).isZero();
        final Dom dom = render(dir.resolve("report.html"), dir.resolve("profile"));
        assertThat(dom.html()).contains("data-rendered=\"2\"");
        assertThat(errorsElement(dom.html())).as("errors written into the page").isEmpty();
        assertThat(dom.consoleErrors()).as("browser console").isEmpty();
        assertThat(dom.html()).contains("simulated onEachCore", "simulated shootdown", "topology", "tree(8)");
    }

    @Test
    void aScriptErrorWouldBeSeen(@TempDir final Path dir) throws Exception {
        // The check above cannot pass vacuously: break the data and the page reports it.
        final Report report = new Report(Context.of(Map.of("commit", "x")), List.of(CompareTest.roundTrip("only", 1000)),
            List.of(), "test");
        final String broken = Html.page(report).replace("const LAB = ", "const LAB = undefinedThing || ");
        final Path page = dir.resolve("broken.html");
        Files.writeString(page, broken, StandardCharsets.UTF_8);
        final Dom dom = render(page, dir.resolve("profile"));
        assertThat(dom.html()).doesNotContain("data-rendered=");
        assertThat(dom.consoleErrors()).anySatisfy(e -> assertThat(e).contains("undefinedThing"));
    }

    @Test
    void theFloorsSectionAndTheMatrixHeatMapAreDrawn(@TempDir final Path dir) throws Exception {
        final LabCommandTest.Run run = LabCommandTest.lab("--smoke", "--variants", "ipi-spin,floors,matrix", "--out",
            dir.toString());
        assertThat(run.code()).as(run.out() + run.err()).isZero();
        final Dom dom = render(dir.resolve("report.html"), dir.resolve("profile"));
        assertThat(errorsElement(dom.html())).as("errors written into the page").isEmpty();
        assertThat(dom.consoleErrors()).as("browser console").isEmpty();
        final String floors = between(dom.html(), "<h2>" + Html.escape(Report.FLOORS), "<h2>");
        // A row per figure: the emulated ones beside their floor and real peer, the host's own (or why it was refused).
        for (final String figure : FloorsPart.FIGURES) {
            assertThat(floors).contains("<tr><td>" + figure);
        }
        assertThat(floors).contains("vs real peer [95% CI]", "RES/op", "x [");
        final Compare.Run results = Compare.read(dir.resolve("results.json"));
        final Result part = results.results().stream().filter(r -> r.part().equals(FloorsPart.NAME)).findFirst()
            .orElseThrow();
        // The ratio chart has a row per comparison: each figure run against its floor, each emulation against its
        // real peer where the host allowed the peer (ipi-spin and ipi-park against host-ipi, shootdown-spin against
        // host-shootdown); a refused call is named with its errno instead.
        final Map<?, ?> refused = (Map<?, ?>) part.info().get("refused");
        final boolean ipi = !refused.containsKey("host-ipi");
        final boolean shootdown = !refused.containsKey("host-shootdown");
        final int expected = 3 + (ipi ? 1 + 2 : 0) + (shootdown ? 1 + 1 : 0);
        assertThat(FloorsPart.maps(part.info().get("comparisons"))).hasSize(expected);
        assertThat(count(floors, "class=\"ratio-row\"")).isEqualTo(expected);
        refused.forEach((k, why) -> assertThat(floors).contains("not measured: the host refuses it: " + Html.escape(
            String.valueOf(why))));
        final Result matrix = results.results().stream().filter(r -> r.part().equals(MatrixPart.PART)).findFirst()
            .orElseThrow();
        final int n = ((Number) matrix.info().get("cpus")).intValue();
        assertThat(n).isEqualTo(Runtime.getRuntime().availableProcessors());
        final String heat = between(dom.html(), "<svg id=\"heatmap\"", "</svg>");
        assertThat(count(heat, "<rect class=\"cell\"")).isEqualTo(n * n);
        // Every pair's value is readable in its cell (and its tooltip), and the section says what the matrix implies.
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j) {
                    final double ns = MatrixPart.oneWay(matrix)[i][j];
                    assertThat(heat).contains(String.format(Locale.ROOT, "cpu %d to cpu %d: %.0f ns one way", i, j, ns));
                }
            }
        }
        assertThat(dom.html()).contains(Html.escape(Report.IMPLIED), "implied topology", "hypervisor");
        assertThat(labelOverlaps(dom.html())).isEmpty();
    }

    /**
     * Fifteen variants crowded where the frontier's labels used to collide (floor-spin, ipi-spin and
     * the Disruptor at nearly the same latency and CPU), and in a second crowd: the browser's boxes
     * of the drawn labels are pairwise disjoint.
     */
    @Test
    void theFrontiersLabelsDoNotOverlap(@TempDir final Path dir) throws Exception {
        final Path page = dir.resolve("crowded.html");
        Files.writeString(page, Html.page(crowded()), StandardCharsets.UTF_8);
        final Dom dom = render(page, dir.resolve("profile"));
        assertThat(errorsElement(dom.html())).isEmpty();
        assertThat(labels(dom.html())).extracting(b -> b.name()).containsExactlyInAnyOrderElementsOf(
            crowded().results().stream().map(Result::name).toList());
        assertThat(labelOverlaps(dom.html())).isEmpty();
    }

    /** The check above cannot pass vacuously: put every label on one spot and the overlaps are seen. */
    @Test
    void overlappingLabelsWouldBeSeen(@TempDir final Path dir) throws Exception {
        final String page = Html.page(crowded());
        final String piled = page.replace("x: box.x + 2, y: box.y + 1", "x: 200, y: 200");
        assertThat(piled).isNotEqualTo(page);
        final Path file = dir.resolve("piled.html");
        Files.writeString(file, piled, StandardCharsets.UTF_8);
        final Dom dom = render(file, dir.resolve("profile"));
        assertThat(labels(dom.html())).hasSize(crowded().results().size());
        assertThat(labelOverlaps(dom.html())).isNotEmpty();
    }

    private static Report crowded() {
        final List<Result> results = new ArrayList<>();
        final String[][] names = {{"floor-spin", "floor"}, {"ipi-spin", "ipi4j"}, {"disruptor-busyspin", "peer"},
            {"call-spin", "ipi4j"}, {"agrona-backoff", "peer"}, {"ipi-adaptive", "ipi4j"}, {"ipi-adaptive-yield", "ipi4j"},
            {"executor", "peer"}, {"floor-park", "floor"}, {"ipi-park", "ipi4j"}, {"ipi-park-pinned", "ipi4j"},
            {"call-park", "ipi4j"}, {"disruptor-blocking", "peer"}, {"ipi-poll-10us", "ipi4j"}, {"ipi-poll-100us", "ipi4j"}};
        for (int i = 0; i < names.length; i++) {
            final Result r = new Result("roundtrip", names[i][0], names[i][1], null);
            final boolean spin = i < 5; // the spinners nearly on one point, the rest on another
            final double p50 = (spin ? 200 : 25_000) * (1 + 0.01 * i);
            r.addRepeat(Map.of("paced_p50_ns", p50, "paced_p99_ns", p50 * 4, "cpu_paced_ns", (spin ? 50_000.0 : 9_000.0)
                * (1 + 0.005 * i)));
            results.add(r);
        }
        return new Report(Context.of(Map.of("commit", "x")), results, List.of(), "test");
    }

    record Box(String name, double x, double y, double w, double h) {
        boolean intersects(final Box o) {
            return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h;
        }
    }

    /** The frontier's label boxes the page measured in the browser ({@code getBoundingClientRect}). */
    @SuppressWarnings("unchecked")
    private static List<Box> labels(final String html) {
        final Matcher m = Pattern.compile("<pre id=\"frontier-labels\"[^>]*>(.*?)</pre>", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("the page has its frontier-labels element").isTrue();
        final String json = m.group(1).replace("&quot;", "\"");
        assertThat(json).as("the page measured its labels").isNotBlank();
        final List<Box> boxes = new ArrayList<>();
        for (final Object o : (List<Object>) Json.parse(json)) {
            final Map<String, Object> b = (Map<String, Object>) o;
            boxes.add(new Box((String) b.get("name"), ((Number) b.get("x")).doubleValue(), ((Number) b.get("y")).doubleValue(),
                ((Number) b.get("w")).doubleValue(), ((Number) b.get("h")).doubleValue()));
        }
        assertThat(boxes).allSatisfy(b -> assertThat(b.w() * b.h()).as(b.name() + " has a size").isPositive());
        return boxes;
    }

    private static List<String> labelOverlaps(final String html) {
        final List<Box> boxes = labels(html);
        final List<String> overlaps = new ArrayList<>();
        for (int i = 0; i < boxes.size(); i++) {
            for (int j = i + 1; j < boxes.size(); j++) {
                if (boxes.get(i).intersects(boxes.get(j))) {
                    overlaps.add(boxes.get(i) + " / " + boxes.get(j));
                }
            }
        }
        return overlaps;
    }

    private static String between(final String s, final String from, final String to) {
        final int i = s.indexOf(from);
        assertThat(i).as("the page holds " + from).isNotNegative();
        final int j = s.indexOf(to, i + from.length());
        return j < 0 ? s.substring(i) : s.substring(i, j);
    }

    record Dom(String html, List<String> consoleErrors) {
    }

    static Dom render(final Path page, final Path profile) throws Exception {
        final String browser = browser();
        final List<String> cmd = List.of(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
            "--dump-dom", page.toUri().toString());
        final Path out = Files.createTempFile("dom", ".html");
        final Path err = Files.createTempFile("console", ".log");
        final Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the browser finished").isTrue();
        final String html = Files.readString(out, StandardCharsets.UTF_8);
        final List<String> console = new ArrayList<>();
        for (final String line : Files.readAllLines(err, StandardCharsets.UTF_8)) {
            if (line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error"))) {
                console.add(line);
            }
        }
        assertThat(html).as("the browser printed the DOM; its log:\n" + Files.readString(err)).contains("<body");
        return new Dom(html, console);
    }

    private static String browser() {
        final String given = System.getProperty("lab.browser");
        if (given != null && !given.isBlank()) {
            return given;
        }
        for (final String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                final File f = new File(dir, name);
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        throw new AssertionError("no headless browser to check report.html: install Chromium "
            + "(Debian: apt-get install chromium) or name one with -Dlab.browser=PATH");
    }

    private static String errorsElement(final String html) {
        final Matcher m = Pattern.compile("<pre id=\"errors\">(.*?)</pre>", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("the page has its errors element").isTrue();
        return m.group(1).trim();
    }

    private static int count(final String s, final String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
