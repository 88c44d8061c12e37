package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.List;

/** A table of text cells, rendered as Markdown or as HTML; the first column is left-aligned. */
final class Table {
    private final List<String> header;
    private boolean leftAligned;
    private final List<List<String>> rows = new ArrayList<>();

    Table(final String... header) {
        this.header = List.of(header);
    }

    Table row(final String... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + header.size() + " columns: " + List.of(cells));
        }
        rows.add(List.of(cells));
        return this;
    }

    /** {@return this table, every column left-aligned (text rather than figures)} */
    Table leftAligned() {
        leftAligned = true;
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    String markdown() {
        final StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) {
            sb.append(i == 0 || leftAligned ? "---|" : "---:|");
        }
        sb.append('\n');
        for (final List<String> r : rows) {
            sb.append("| ").append(String.join(" | ", r).replace("\n", " ")).append(" |\n");
        }
        return sb.toString();
    }

    String html() {
        final StringBuilder sb = new StringBuilder(leftAligned ? "<table class=\"text\">\n<tr>" : "<table>\n<tr>");
        for (final String h : header) {
            sb.append("<th>").append(Html.escape(h)).append("</th>");
        }
        sb.append("</tr>\n");
        for (final List<String> r : rows) {
            sb.append("<tr>");
            for (final String c : r) {
                sb.append("<td>").append(Html.escape(c)).append("</td>");
            }
            sb.append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }
}
