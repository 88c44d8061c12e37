package org.ipi4j.bench.lab;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * The lab's JSON, through Jackson: written from maps, lists, arrays, strings, numbers, booleans
 * and null, and read back into the same (objects as insertion-ordered maps, every number as a
 * double, which is what the lab's figures are). One policy of the lab's own: JSON has no NaN, and
 * a figure that was not measured ({@code NaN}, an infinity) is written as {@code null}.
 * Thread-safe.
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .registerModule(new SimpleModule("ipi4j-lab")
            .addSerializer(Double.class, new AbsentAsNull())
            .addSerializer(Double.TYPE, new AbsentAsNull())
            .addSerializer(double[].class, new ArrayAbsentAsNull()));

    private Json() {
    }

    /** {@return {@code value} as JSON text, indented} @param value what to write */
    public static String write(final Object value) {
        try {
            return MAPPER.writeValueAsString(value) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: "
                + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads JSON text.
     *
     * @param text the JSON
     * @return maps, lists, strings, doubles, booleans and nulls
     * @throws IllegalArgumentException naming the line and column of the first error
     */
    public static Object parse(final String text) {
        try {
            return doubles(MAPPER.readValue(text, Object.class));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON at line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage(), e);
        }
    }

    /** Every number as a double, as the lab reads its figures (Jackson gives integers for whole numbers). */
    private static Object doubles(final Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        } else if (v instanceof Map<?, ?> m) {
            final Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), doubles(x)));
            return out;
        } else if (v instanceof List<?> l) {
            final List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(doubles(x)));
            return out;
        }
        return v;
    }

    private static void number(final double d, final JsonGenerator gen) throws IOException {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            gen.writeNull(); // JSON has no NaN: an absent figure
        } else {
            gen.writeNumber(d);
        }
    }

    private static final class AbsentAsNull extends StdSerializer<Double> {
        private static final long serialVersionUID = 1L;

        AbsentAsNull() {
            super(Double.class);
        }

        @Override
        public void serialize(final Double value, final JsonGenerator gen, final SerializerProvider provider)
            throws IOException {
            number(value, gen);
        }
    }

    private static final class ArrayAbsentAsNull extends StdSerializer<double[]> {
        private static final long serialVersionUID = 1L;

        ArrayAbsentAsNull() {
            super(double[].class);
        }

        @Override
        public void serialize(final double[] value, final JsonGenerator gen, final SerializerProvider provider)
            throws IOException {
            gen.writeStartArray();
            for (final double d : value) {
                number(d, gen);
            }
            gen.writeEndArray();
        }
    }
}
