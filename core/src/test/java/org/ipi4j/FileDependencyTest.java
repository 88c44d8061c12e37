package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * One home per job, enforced file by file (issue #19's "done when"):
 * <ul>
 *   <li>no two files of {@code org.ipi4j} reference each other, directly or through a chain (a
 *       nested class counts as its file). A file references another when the other's top-level
 *       type name appears in its code; comments, Javadoc and string literals do not count, so a
 *       {@code {@link}} may point anywhere. {@link PackageDependencyTest} holds the same rule one
 *       level up, between packages;</li>
 *   <li>no file of {@code org.ipi4j} or {@code org.ipi4j.apic} is over {@value #MAX_LINES} lines:
 *       a file that grows past it has taken on a second job, to be moved into its own class;</li>
 *   <li>in each package of the main code, at most one file asks whether the machine is simulated
 *       (the timeline's {@code simulated()}, the machine's {@code simulation()}, a simulation
 *       compared with null): that class decides once, at build time, and hands the others what
 *       differs (a cost, a policy) instead of letting each site switch on the flag.</li>
 * </ul>
 */
class FileDependencyTest {
    private static final Path ROOT = Path.of("src/main/java/org/ipi4j");
    private static final Pattern IDENTIFIER = Pattern.compile("\\b[A-Z][A-Za-z0-9_]*\\b");
    /** The ceiling on a file of the root package or of apic, where the coordinating classes live. */
    static final int MAX_LINES = 400;
    /** Code that asks whether the machine is simulated: the accessors, a null check of a simulation, a type test. */
    private static final Pattern SIMULATED_CHECK = Pattern.compile("\\.simulated\\(\\)|\\.simulation\\(\\)"
        + "|\\bsimulation\\s*[!=]=\\s*null\\b|\\bnull\\s*[!=]=\\s*simulation\\b|\\binstanceof\\s+Simulation\\b");

    @Test
    void theRootPackagesFilesFormNoCycle() throws IOException {
        final Map<String, Set<String>> graph = graph(ROOT);
        assertThat(graph).as("the root package's files").containsKeys("Machine", "Core").hasSizeGreaterThan(8);
        assertThat(graph.get("Machine")).as("the machine hands out its cores").contains("Core");
        assertThat(cycle(graph)).as("a cycle among the files of org.ipi4j").isEmpty();
    }

    @Test
    void theReaderFindsACycleAndIgnoresComments() {
        final Map<String, Set<String>> g = new TreeMap<>();
        g.put("A", references("A", "class A { B b; /* C */ // C\n String s = \"C\"; char c = 'C'; }", Set.of("A", "B", "C")));
        g.put("B", references("B", "class B { /** {@link A} */ C c; }", Set.of("A", "B", "C")));
        g.put("C", references("C", "class C { String t = \"\"\"\n   A \"\"\"; }", Set.of("A", "B", "C")));
        assertThat(g).containsEntry("A", Set.of("B")).containsEntry("B", Set.of("C")).containsEntry("C", Set.of());
        assertThat(cycle(g)).isEmpty();
        g.put("C", references("C", "class C { A a; }", Set.of("A", "B", "C")));
        assertThat(cycle(g)).containsExactly("A", "B", "C", "A");
    }

    @Test
    void noFileOfTheRootPackageOrOfApicIsOverTheCeiling() throws IOException {
        final Map<String, Integer> over = new TreeMap<>();
        int files = 0;
        for (final Path dir : List.of(ROOT, ROOT.resolve("apic"))) {
            for (final Path f : javaFiles(dir)) {
                files++;
                final int lines = Files.readAllLines(f).size();
                if (lines > MAX_LINES) {
                    over.put(ROOT.relativize(f).toString(), lines);
                }
            }
        }
        assertThat(files).as("files of org.ipi4j and org.ipi4j.apic read").isGreaterThan(30);
        assertThat(over).as("files over %d lines, by their line count: move a job of each into its own class",
            MAX_LINES).isEmpty();
    }

    @Test
    void atMostOneFileOfAPackageAsksWhetherTheMachineIsSimulated() throws IOException {
        final Map<String, Set<String>> askers = new TreeMap<>();
        try (Stream<Path> all = Files.walk(ROOT)) {
            for (final Path f : (Iterable<Path>) all.filter(p -> p.toString().endsWith(".java"))::iterator) {
                if (asksWhetherSimulated(Files.readString(f))) {
                    final String dir = ROOT.relativize(f.getParent()).toString().replace('/', '.');
                    askers.computeIfAbsent(dir.isEmpty() ? "org.ipi4j" : "org.ipi4j." + dir, k -> new TreeSet<>())
                        .add(f.getFileName().toString());
                }
            }
        }
        // The net catches what is there today: the machine and the delivery path's port decide.
        assertThat(askers).as("files asking whether the machine is simulated, by package")
            .containsKeys("org.ipi4j", "org.ipi4j.apic");
        askers.values().removeIf(files -> files.size() <= 1);
        assertThat(askers).as("packages where more than one file asks whether the machine is simulated: decide "
            + "in one, at build time, and hand the others what differs").isEmpty();
    }

    @Test
    void theSimulatedCheckIsReadInCodeNotInComments() {
        assertThat(asksWhetherSimulated("class A { boolean b = timeline.simulated(); }")).isTrue();
        assertThat(asksWhetherSimulated("class A { void f() { if (machine.simulation() != null) { } } }")).isTrue();
        assertThat(asksWhetherSimulated("class A { Object t = simulation == null ? real : simulation; }")).isTrue();
        assertThat(asksWhetherSimulated("class A { boolean b = null != simulation; }")).isTrue();
        assertThat(asksWhetherSimulated("class A { boolean b = t instanceof Simulation; }")).isTrue();
        assertThat(asksWhetherSimulated("class A { /** not when {@code timeline.simulated()} */ // simulation != null\n"
            + " String s = \"machine.simulation()\"; public boolean simulated() { return true; } }")).isFalse();
    }

    /** {@return true if {@code source}'s code (not its comments or literals) asks whether the machine is simulated} */
    static boolean asksWhetherSimulated(final String source) {
        return SIMULATED_CHECK.matcher(code(source)).find();
    }

    /** The {@code .java} files directly in {@code dir}, package-info too. */
    private static List<Path> javaFiles(final Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".java")).sorted().toList();
        }
    }

    /** Each top-level file of {@code dir}, by type name, to the other files of {@code dir} its code names. */
    private static Map<String, Set<String>> graph(final Path dir) throws IOException {
        final Map<String, String> sources = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (final Path f : (Iterable<Path>) files::iterator) {
                final String name = f.getFileName().toString();
                if (name.endsWith(".java") && !name.equals("package-info.java")) {
                    sources.put(name.substring(0, name.length() - ".java".length()), Files.readString(f));
                }
            }
        }
        final Map<String, Set<String>> graph = new TreeMap<>();
        sources.forEach((type, text) -> graph.put(type, references(type, text, sources.keySet())));
        return graph;
    }

    /** The names among {@code types} other than {@code self} that {@code source}'s code (not its comments or literals) mentions. */
    static Set<String> references(final String self, final String source, final Set<String> types) {
        final Matcher m = IDENTIFIER.matcher(code(source));
        final Set<String> out = new TreeSet<>();
        while (m.find()) {
            out.add(m.group());
        }
        out.retainAll(types);
        out.remove(self);
        return out;
    }

    /** {@code source} with comments, string, text-block and char literals blanked out. */
    static String code(final String s) {
        final StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            final char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                i = until(s, "\n", i + 2);
                out.append('\n');
            } else if (s.startsWith("/*", i)) {
                i = until(s, "*/", i + 2);
                out.append(' '); // a comment separates tokens
            } else if (s.startsWith("\"\"\"", i)) {
                i = until(s, "\"\"\"", i + 3);
                out.append("\"\"");
            } else if (c == '"' || c == '\'') {
                i++;
                while (i < s.length() && s.charAt(i) != c) {
                    i += s.charAt(i) == '\\' ? 2 : 1;
                }
                i++;
                out.append(c).append(c);
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The index just past the first {@code end} at or after {@code from}, or the end of {@code s}. */
    private static int until(final String s, final String end, final int from) {
        final int at = s.indexOf(end, from);
        return at < 0 ? s.length() : at + end.length();
    }

    /** A cycle of {@code graph} as a path that ends where it starts, or an empty list. */
    static List<String> cycle(final Map<String, Set<String>> graph) {
        final Set<String> done = new TreeSet<>();
        for (final String start : graph.keySet()) {
            final Deque<String> path = new ArrayDeque<>();
            final List<String> found = visit(graph, start, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    private static List<String> visit(final Map<String, Set<String>> graph, final String node, final Deque<String> path,
                                      final Set<String> done) {
        if (path.contains(node)) {
            final List<String> cycle = new ArrayList<>();
            boolean in = false;
            for (final String p : (Iterable<String>) path::descendingIterator) {
                in |= p.equals(node);
                if (in) {
                    cycle.add(p);
                }
            }
            cycle.add(node);
            return cycle;
        }
        if (!done.add(node)) {
            return List.of();
        }
        path.push(node);
        for (final String next : graph.getOrDefault(node, Set.of())) {
            final List<String> found = visit(graph, next, path, done);
            if (!found.isEmpty()) {
                return found;
            }
        }
        path.pop();
        return List.of();
    }
}
