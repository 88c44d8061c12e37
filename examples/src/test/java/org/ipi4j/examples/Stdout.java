package org.ipi4j.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** Runs an example's {@code main} and returns what it printed. */
final class Stdout {
    /** An example's entry point. */
    interface Main {
        void run(String[] args) throws Exception;
    }

    private Stdout() {
    }

    static String of(final Main main) throws Exception {
        final PrintStream saved = System.out;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            main.run(new String[0]);
        } finally {
            System.setOut(saved);
        }
        return out.toString();
    }
}
