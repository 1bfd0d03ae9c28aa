package io.sdj.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The child JVM of {@link FuzzTest}: runs cases {@code from} to {@code to} of a seeded run through {@link Main#run}
 * and prints, for each, {@code START i} before and one {@code CASE} line after (tab-separated: index, kind, outcome,
 * exit status, the error line). Outcomes: {@code OK} (exit 0), {@code TYPED} (an sdj error with a message) and
 * {@code UNTYPED} (an internal error, an exception escaping Main.run, an empty message, or the JVM's own out of
 * memory). A line missing after {@code START} tells the parent the JVM died or hung in that case.
 *
 * <p>Arguments: work folder, merges file, seed, from, to.
 */
public final class FuzzChild {
    private FuzzChild() {
    }

    public static void main(String[] args) {
        Path work = Path.of(args[0]);
        Path merges = Path.of(args[1]);
        long seed = Long.parseLong(args[2]);
        int from = Integer.parseInt(args[3]);
        int to = Integer.parseInt(args[4]);
        PrintStream report = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        FuzzCases cases = new FuzzCases(work, merges);
        for (int i = from; i < to; i++) {
            report.println("START " + i);
            long t0 = System.nanoTime();
            FuzzCases.Case c = cases.make(seed, i);
            long t1 = System.nanoTime();
            String line = outcome(c);
            report.println(line + "\t" + (t1 - t0) / 1_000_000 + "+" + (System.nanoTime() - t1) / 1_000_000 + " ms");
        }
        report.println("DONE");
    }

    public static String outcome(FuzzCases.Case c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        String outcome;
        String message;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(c.args(), o, e);
            message = errorLine(err.toString(StandardCharsets.UTF_8));
            if (status == Main.EXIT_OK) {
                outcome = "OK";
            } else if (message == null || message.isBlank() || message.startsWith("internal error")
                    || message.startsWith("out of Java heap memory")) {
                outcome = "UNTYPED";
            } else {
                outcome = "TYPED";
            }
        } catch (Throwable t) {
            status = -1;
            outcome = "UNTYPED";
            message = "escaped Main.run: " + t;
        }
        String m = message == null ? "" : message.replaceAll("[\\t\\r\\n]", " ");
        if (m.length() > 400) {
            m = m.substring(0, 400) + "...";
        }
        return "CASE\t" + c.index() + "\t" + c.kind() + "\t" + outcome + "\t" + status + "\t" + m + "\t"
                + (c.what() == null ? "" : c.what().replaceAll("[\\t\\r\\n]", " "));
    }

    /** The text after the last "sdj: error: " on stderr, or null. */
    private static String errorLine(String err) {
        String key = "sdj: error: ";
        int at = err.lastIndexOf(key);
        if (at < 0) {
            return null;
        }
        int end = err.indexOf('\n', at);
        return err.substring(at + key.length(), end < 0 ? err.length() : end).strip();
    }
}
