package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.ipi4j.Machine;
import org.ipi4j.Pinner;

/**
 * What a run's figures need beside them to be compared: ipi4j version and commit, the JVM and its
 * flags, the CPU model and count, whether pinning is available, the load average before and after,
 * and the lab's own settings. Everything is read once, at the start, except the load average
 * after, which {@link #finish()} adds.
 */
public final class Context {
    private final Map<String, Object> values = new LinkedHashMap<>();

    private Context() {
    }

    /**
     * {@return the context of this run, read now}
     *
     * @param settings the lab's settings, recorded as given
     */
    public static Context capture(final Map<String, Object> settings) {
        final Context c = new Context();
        final Map<String, Object> v = c.values;
        v.put("date", Instant.now().toString());
        v.put("ipi4j version", buildProperty("version"));
        v.put("commit", commit());
        v.put("host CPUs", Machine.hostCpus());
        v.put("CPU", cpuModel());
        v.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
            + System.getProperty("os.arch"));
        v.put("JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        v.put("JVM flags", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        final Pinner pinner = Pinner.fromClassPath();
        v.put("pinning", pinner == null ? "unavailable (no Pinner on the class path): cores run unpinned"
            : "available (" + pinner.getClass().getSimpleName() + "); ipi4j variants run unpinned unless named -pinned");
        v.put("load average before", loadAverage());
        v.put("settings", settings);
        return c;
    }

    /** Records the load average after the run. */
    public void finish() {
        values.put("load average after", loadAverage());
    }

    /** {@return the recorded values, in the order they were taken} */
    public Map<String, Object> values() {
        return values;
    }

    /**
     * {@return a context read back from a results file}
     *
     * @param values the map {@link #values()} wrote
     */
    public static Context of(final Map<String, Object> values) {
        final Context c = new Context();
        c.values.putAll(values);
        return c;
    }

    private static double loadAverage() {
        return Math.round(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() * 100) / 100.0;
    }

    static String buildProperty(final String key) {
        try (InputStream in = Context.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return "unknown";
            }
            final Properties p = new Properties();
            p.load(in);
            return p.getProperty(key, "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The commit of the working directory, "-dirty" if it has changes; "unknown" outside a git checkout. */
    static String commit() {
        final String head = git("rev-parse", "--short=12", "HEAD");
        if (head.isEmpty()) {
            return "unknown (not run from a git checkout)";
        }
        return git("status", "--porcelain", "--untracked-files=no").isEmpty() ? head : head + "-dirty";
    }

    private static String git(final String... args) {
        final String[] cmd = new String[args.length + 1];
        cmd[0] = "git";
        System.arraycopy(args, 0, cmd, 1, args.length);
        try {
            final Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return "";
            }
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static String cpuModel() {
        try {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException notLinux) {
            // leave it unnamed
        }
        return "unknown";
    }
}
