package org.ipi4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The layering of docs/ARCHITECTURE.md, enforced: every import of one ipi4j package by another
 * must be an edge of this table, which has no cycle. "root" is {@code org.ipi4j} itself; "api" (the
 * {@code InternalApi} mark) is a leaf any layer may use.
 */
class PackageDependencyTest {
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
        Map.entry("api", Set.of()),
        Map.entry("interrupts", Set.of()),
        Map.entry("idle", Set.of()),
        Map.entry("time", Set.of()),
        Map.entry("observability", Set.of()),
        Map.entry("isa", Set.of("api", "interrupts")),
        Map.entry("apic", Set.of("api", "interrupts", "idle", "observability", "time")),
        Map.entry("sim", Set.of("interrupts", "time")),
        Map.entry("root", Set.of("api", "apic", "isa", "interrupts", "idle", "observability", "sim", "time")),
        Map.entry("smp", Set.of("api", "root", "interrupts", "observability", "sim", "time")),
        Map.entry("mm", Set.of("api", "root", "smp", "isa", "interrupts", "observability", "sim", "time")),
        Map.entry("shard", Set.of("api", "root", "smp", "interrupts")));

    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?org\\.ipi4j\\.([a-z]+\\.)?[A-Z]", Pattern.MULTILINE);

    @Test
    void importsFollowTheLayers() throws IOException {
        final Path src = Path.of("src/main/java/org/ipi4j");
        assertThat(src).isDirectory();
        final List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(src)) {
            for (final Path file : (Iterable<Path>) all.filter(p -> p.toString().endsWith(".java"))::iterator) {
                files++;
                final Path dir = src.relativize(file.getParent());
                final String from = dir.toString().isEmpty() ? "root" : dir.toString();
                assertThat(ALLOWED).as("package %s is in the layer table", from).containsKey(from);
                final Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    final String to = m.group(1) == null ? "root" : m.group(1).substring(0, m.group(1).length() - 1);
                    if (!to.equals(from) && !ALLOWED.get(from).contains(to)) {
                        violations.add(src.relativize(file) + " imports org.ipi4j." + (to.equals("root") ? "" : to));
                    }
                }
            }
        }
        assertThat(files).isGreaterThan(50);
        assertThat(violations).isEmpty();
    }
}
