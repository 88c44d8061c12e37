package org.ipi4j.bench.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The lab's JSON: written from maps, lists, strings, numbers, booleans and null, and read back
 * into the same (objects as insertion-ordered maps, numbers as doubles). Enough for the lab's own
 * results files; not a general JSON library.
 */
public final class Json {
    private Json() {
    }

    /** {@return {@code value} as JSON text, indented by two spaces} @param value what to write */
    public static String write(final Object value) {
        final StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.append('\n').toString();
    }

    private static void write(final StringBuilder sb, final Object v, final int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            final double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                sb.append("null"); // JSON has no NaN: an absent figure
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                sb.append((long) d);
            } else {
                sb.append(String.format(Locale.ROOT, "%.6g", d).replaceFirst("0+(e|$)", "$1").replaceFirst("\\.(e|$)", "$1"));
            }
        } else if (v instanceof Number) {
            sb.append(v);
        } else if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (final Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "\n" : ",\n");
                first = false;
                indent(sb, depth + 1);
                quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), depth + 1);
            }
            if (!first) {
                sb.append('\n');
                indent(sb, depth);
            }
            sb.append('}');
        } else if (v instanceof Iterable<?> it) {
            sb.append('[');
            boolean first = true;
            for (final Object o : it) {
                sb.append(first ? "" : ", ");
                first = false;
                write(sb, o, depth + 1);
            }
            sb.append(']');
        } else if (v instanceof double[] a) {
            final List<Object> l = new ArrayList<>();
            for (final double d : a) {
                l.add(d);
            }
            write(sb, l, depth);
        } else if (v instanceof long[] a) {
            final List<Object> l = new ArrayList<>();
            for (final long d : a) {
                l.add(d);
            }
            write(sb, l, depth);
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON: " + v);
        }
    }

    private static void indent(final StringBuilder sb, final int depth) {
        sb.append("  ".repeat(depth));
    }

    private static void quote(final StringBuilder sb, final String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            final char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /**
     * Reads JSON text.
     *
     * @param text the JSON
     * @return maps, lists, strings, doubles, booleans and nulls
     * @throws IllegalArgumentException naming the position of the first error
     */
    public static Object parse(final String text) {
        final Parser p = new Parser(text);
        final Object v = p.value();
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("trailing text");
        }
        return v;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(final String s) {
            this.s = s;
        }

        IllegalArgumentException error(final String what) {
            return new IllegalArgumentException("JSON: " + what + " at offset " + pos);
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        Object value() {
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            final char c = s.charAt(pos);
            switch (c) {
                case '{' -> {
                    return object();
                }
                case '[' -> {
                    return array();
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", pos)) {
                        pos += 4;
                        return null;
                    }
                    return number();
                }
            }
        }

        Map<String, Object> object() {
            final Map<String, Object> m = new LinkedHashMap<>();
            pos++;
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            for (;;) {
                skipSpace();
                final String key = string();
                skipSpace();
                expect(':');
                m.put(key, value());
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect('}');
                return m;
            }
        }

        List<Object> array() {
            final List<Object> l = new ArrayList<>();
            pos++;
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return l;
            }
            for (;;) {
                l.add(value());
                skipSpace();
                if (pos < s.length() && s.charAt(pos) == ',') {
                    pos++;
                    continue;
                }
                expect(']');
                return l;
            }
        }

        String string() {
            expect('"');
            final StringBuilder sb = new StringBuilder();
            while (pos < s.length()) {
                final char c = s.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    if (pos >= s.length()) {
                        break;
                    }
                    final char e = s.charAt(pos++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' -> {
                            if (pos + 4 > s.length()) {
                                throw error("short \\u escape");
                            }
                            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            pos += 4;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            throw error("unterminated string");
        }

        Double number() {
            final int start = pos;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            if (start == pos) {
                throw error("unexpected character '" + s.charAt(pos) + "'");
            }
            try {
                return Double.valueOf(s.substring(start, pos));
            } catch (NumberFormatException e) {
                throw error("bad number " + s.substring(start, pos));
            }
        }

        void expect(final char c) {
            if (pos >= s.length() || s.charAt(pos) != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }
    }
}
