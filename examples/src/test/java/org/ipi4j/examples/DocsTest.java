package org.ipi4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documentation is tested, as docs/TESTING.md's first section says: every {@code ```java}
 * block of README.md and docs/*.md compiles against this module's test class path (a block with
 * an {@code import}, {@code package} or top-level type is a compilation unit; any other is a
 * method body, with {@link #snippetImports()}), unless the line before it is {@value #FRAGMENT};
 * the README's quick start also runs. Every relative link and anchor resolves, and every example,
 * module, test, benchmark and jcstress test a command names exists. (The lab's options are checked
 * against its {@code --help} by bench's {@code LabDocsTest}.)
 */
@Timeout(120)
class DocsTest {
    /** The line before a block that is not meant to compile on its own. */
    static final String FRAGMENT = "<!-- fragment -->";

    /** What a method-body block may use without importing it, besides every package of ipi4j-core ({@link #snippetImports()}). */
    static final List<String> SNIPPET_IMPORTS = List.of("java.time.Duration", "java.util.List", "java.util.concurrent.*");

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern FENCE = Pattern.compile("(?m)^```(\\w*)\\n(.*?)^```", Pattern.DOTALL);
    private static final Pattern UNIT = Pattern.compile("(?m)^(import |package |(public |final |abstract )*(class|interface|record|enum) )");
    private static final Pattern TYPE = Pattern.compile("(?m)^(?:public |final |abstract )*(?:class|interface|record|enum) (\\w+)");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6} (.+)$");

    /** One {@code ```java} block: where it is, and its code. */
    record Block(Path doc, int line, String code, boolean fragment) {
        String where() {
            return REPO.relativize(doc) + ":" + line;
        }
    }

    @Test
    void everyJavaBlockCompilesAndTheQuickStartRuns(@TempDir final Path dir) throws Exception {
        final List<Block> blocks = javaBlocks();
        assertThat(blocks).as("java blocks in README.md and docs/").hasSizeGreaterThanOrEqualTo(5);
        final Map<Path, Block> sources = new LinkedHashMap<>();
        for (final Block b : blocks) {
            if (!b.fragment()) {
                sources.put(write(dir.resolve("src"), b, sources.size()), b);
            }
        }
        final Path out = Files.createDirectories(dir.resolve("classes"));
        final JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        final DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            final List<String> options = List.of("-classpath", classPath(), "-d", out.toString(), "-proc:none",
                "-Xlint:none", "--release", "17");
            final boolean ok = javac.getTask(null, files, diagnostics, options, null,
                files.getJavaFileObjectsFromPaths(sources.keySet())).call();
            final List<String> errors = new ArrayList<>();
            for (final Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() == Diagnostic.Kind.ERROR) {
                    final Block b = sources.get(Path.of(d.getSource().toUri()));
                    errors.add((b == null ? String.valueOf(d.getSource()) : b.where() + " (block line " + d.getLineNumber()
                        + ")") + ": " + d.getMessage(Locale.ROOT));
                }
            }
            assertThat(errors).as("compile errors in the documentation's java blocks (mark a fragment with "
                + FRAGMENT + " on the line before it)").isEmpty();
            assertThat(ok).isTrue();
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()}, getClass().getClassLoader())) {
            final Method main = loader.loadClass("QuickStart").getMethod("main", String[].class);
            final String printed = Stdout.of(args -> main.invoke(null, (Object) args));
            assertThat(printed).contains("core 1 got [hello]", "ran on core 1");
        }
        assertThat(quickStart().lines().count()).as("the README's quick start, imports included").isLessThanOrEqualTo(25);
    }

    @Test
    void theReadmeIsShortAndItsQuickStartIsAWholeProgram() throws IOException {
        assertThat(Files.readAllLines(REPO.resolve("README.md"))).as("README.md's lines").hasSizeLessThanOrEqualTo(200);
        assertThat(quickStart()).contains("import org.ipi4j.Machine;", "public static void main");
    }

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        final List<String> broken = new ArrayList<>();
        for (final Path doc : docs(true)) {
            final String text = withoutCode(Files.readString(doc));
            final Matcher m = LINK.matcher(text);
            while (m.find()) {
                final String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue; // http:, https:, mailto:
                }
                final int hash = target.indexOf('#');
                final String file = hash < 0 ? target : target.substring(0, hash);
                final Path to = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                if (!Files.exists(to)) {
                    broken.add(REPO.relativize(doc) + ": " + target + " (no such file)");
                } else if (hash >= 0 && !anchors(to).contains(target.substring(hash + 1))) {
                    broken.add(REPO.relativize(doc) + ": " + target + " (no such heading; there are " + anchors(to) + ")");
                }
            }
        }
        assertThat(broken).isEmpty();
    }

    @Test
    void everyNamedExampleTestBenchmarkAndStressTestExists() throws IOException {
        final Set<String> sources;
        try (Stream<Path> all = Files.walk(REPO)) {
            sources = all.filter(p -> p.toString().endsWith(".java") && !p.toString().contains("/target/"))
                .map(p -> p.getFileName().toString().replace(".java", "")).collect(Collectors.toCollection(TreeSet::new));
        }
        final Map<Pattern, String> named = new HashMap<>();
        named.put(Pattern.compile("-Dexample=(\\w+)"), "example");
        named.put(Pattern.compile("-Dtest='?([\\w!/*.,]+)"), "test");
        named.put(Pattern.compile("benchmarks\\.jar (\\w+Bench)"), "benchmark");
        named.put(Pattern.compile("jcstress\\.jar -t '?(\\w+)"), "jcstress test");
        final List<String> missing = new ArrayList<>();
        for (final Path doc : docs(false)) {
            final String text = Files.readString(doc);
            for (final Map.Entry<Pattern, String> e : named.entrySet()) {
                final Matcher m = e.getKey().matcher(text);
                while (m.find()) {
                    for (final String name : m.group(1).split(",")) {
                        final String simple = name.replaceAll(".*[/.]", "");
                        if (!name.contains("*") && !name.startsWith("!") && !sources.contains(simple)) {
                            missing.add(REPO.relativize(doc) + ": " + e.getValue() + " " + name);
                        }
                    }
                }
            }
        }
        final Matcher modules = Pattern.compile("-pl ([\\w,]+)").matcher(String.join("\n", texts()));
        while (modules.find()) {
            for (final String module : modules.group(1).split(",")) {
                if (!Files.exists(REPO.resolve(module).resolve("pom.xml"))) {
                    missing.add("module " + module + " (in -pl " + modules.group(1) + ")");
                }
            }
        }
        assertThat(missing).isEmpty();
    }

    private static List<String> texts() throws IOException {
        final List<String> texts = new ArrayList<>();
        for (final Path doc : docs(false)) {
            texts.add(Files.readString(doc));
        }
        return texts;
    }

    /** README.md and docs/*.md, and with {@code changelog} CHANGELOG.md too. */
    static List<Path> docs(final boolean changelog) throws IOException {
        final List<Path> docs = new ArrayList<>();
        docs.add(REPO.resolve("README.md"));
        if (changelog) {
            docs.add(REPO.resolve("CHANGELOG.md"));
        }
        try (Stream<Path> pages = Files.list(REPO.resolve("docs"))) {
            pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    private static List<Block> javaBlocks() throws IOException {
        final List<Block> blocks = new ArrayList<>();
        for (final Path doc : docs(false)) {
            final String text = Files.readString(doc);
            final Matcher m = FENCE.matcher(text);
            while (m.find()) {
                if (m.group(1).equals("java")) {
                    final String before = text.substring(0, m.start()).stripTrailing();
                    final String previous = before.substring(before.lastIndexOf('\n') + 1).strip();
                    final int line = (int) before.chars().filter(c -> c == '\n').count() + 2;
                    blocks.add(new Block(doc, line, m.group(2), previous.equals(FRAGMENT)));
                }
            }
        }
        return blocks;
    }

    private static String quickStart() throws IOException {
        return javaBlocks().stream().filter(b -> b.doc().endsWith("README.md") && b.code().contains("class QuickStart"))
            .findFirst().orElseThrow(() -> new AssertionError("README.md has no QuickStart block")).code();
    }

    /** Writes {@code b} as a source file: as it is when it is a compilation unit, else as a method body. */
    private static Path write(final Path src, final Block b, final int n) throws IOException {
        final Path file;
        final String code;
        if (UNIT.matcher(b.code()).find()) {
            final Matcher type = TYPE.matcher(b.code());
            assertThat(type.find()).as("%s declares a type", b.where()).isTrue();
            final Matcher pkg = PACKAGE.matcher(b.code());
            final Path dir = pkg.find() ? src.resolve(pkg.group(1).replace('.', File.separatorChar)) : src;
            file = dir.resolve(type.group(1) + ".java");
            code = b.code();
        } else {
            final String name = "Snippet" + n;
            file = src.resolve(name + ".java");
            code = snippetImports().stream().map(i -> "import " + i + ";\n").collect(Collectors.joining())
                + "class " + name + " {\n    void run() throws Exception {\n" + b.code() + "\n    }\n}\n";
        }
        assertThat(file).as("two blocks declare %s", file.getFileName()).doesNotExist();
        Files.createDirectories(file.getParent());
        Files.writeString(file, code);
        return file;
    }

    /** {@link #SNIPPET_IMPORTS} and, by wildcard, every package of ipi4j-core, a new one included. */
    static List<String> snippetImports() throws IOException {
        final List<String> imports = new ArrayList<>(SNIPPET_IMPORTS);
        imports.add("org.ipi4j.*");
        try (Stream<Path> dirs = Files.list(REPO.resolve("core/src/main/java/org/ipi4j"))) {
            dirs.filter(Files::isDirectory).map(d -> "org.ipi4j." + d.getFileName() + ".*").sorted().forEach(imports::add);
        }
        return imports;
    }

    /** The class path this test runs with: Surefire's, not its booter jar's. */
    private static String classPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** Markdown without its fenced blocks and code spans, where a bracket is not a link. */
    private static String withoutCode(final String text) {
        return FENCE.matcher(text).replaceAll("").replaceAll("`[^`\\n]*`", "");
    }

    /** The anchors GitHub makes for a page's headings: lower case, punctuation dropped, spaces as dashes. */
    static Set<String> anchors(final Path doc) throws IOException {
        final Set<String> anchors = new TreeSet<>();
        final Map<String, Integer> seen = new HashMap<>();
        final Matcher m = HEADING.matcher(FENCE.matcher(Files.readString(doc)).replaceAll(""));
        while (m.find()) {
            final String slug = m.group(1).strip().toLowerCase(Locale.ROOT).replace("`", "")
                .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            final int count = seen.merge(slug, 1, Integer::sum);
            anchors.add(count == 1 ? slug : slug + "-" + (count - 1));
        }
        return anchors;
    }
}
