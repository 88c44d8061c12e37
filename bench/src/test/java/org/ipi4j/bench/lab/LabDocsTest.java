package org.ipi4j.bench.lab;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Every {@code lab} command the documentation shows uses options the lab has: each
 * {@code --option} of a {@code lab ...} command in README.md and docs/*.md appears in the
 * {@code --help} of the command or subcommand it is given to (docs/TESTING.md, "Documentation is
 * tested").
 */
class LabDocsTest {
    /** A lab command line, in a code span or a code block: {@code lab} then its arguments. */
    private static final Pattern COMMAND = Pattern.compile("(?m)(?:^|`|\\s)lab((?: +(?:\\[?--?[\\w-]+\\]?|[\\w./,:\\[\\]-]+))+)");
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][\\w-]*");
    private static final Set<String> SUBCOMMANDS = Set.of("compare", "torture", "trials", "matrix", "load", "calibrate");

    @Test
    void everyOptionOfADocumentedLabCommandIsInItsHelp() throws IOException {
        final List<String> unknown = new ArrayList<>();
        final Map<String, String> helps = new HashMap<>();
        int commands = 0;
        for (final Path doc : docs()) {
            final Matcher m = COMMAND.matcher(Files.readString(doc));
            while (m.find()) {
                final String args = m.group(1).strip();
                final String first = args.split(" +")[0];
                final String sub = SUBCOMMANDS.contains(first) ? first : null;
                final String help = helps.computeIfAbsent(sub == null ? "" : sub,
                    k -> k.isEmpty() ? LabCommandTest.lab("--help").out() : LabCommandTest.lab(k, "--help").out());
                final Matcher o = OPTION.matcher(args);
                while (o.find()) {
                    commands++;
                    if (!OPTION.matcher(help).results().anyMatch(h -> h.group().equals(o.group()))) {
                        unknown.add(doc.getFileName() + ": lab " + (sub == null ? "" : sub + " ") + o.group()
                            + " (in `lab " + args + "`)");
                    }
                }
            }
        }
        assertThat(commands).as("options of lab commands found in the docs").isGreaterThan(20);
        assertThat(unknown).isEmpty();
    }

    private static List<Path> docs() throws IOException {
        final Path repo = Path.of("..").toAbsolutePath().normalize();
        final List<Path> docs = new ArrayList<>(List.of(repo.resolve("README.md")));
        try (Stream<Path> pages = Files.list(repo.resolve("docs"))) {
            pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }
}
