package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
