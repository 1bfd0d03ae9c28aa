package io.sdj.bench;

import io.sdj.SdjException;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The figures of one measured run, keyed by metric. A measured sdj JVM prints them as one line,
 * {@code sdj-bench-result load=12.3 text=0.41 ...}, which the parent reads back with {@link #parseLine}.
 */
public record Sample(Map<Metric, Double> values) {
    /** The first word of a result line. */
    public static final String PREFIX = "sdj-bench-result";

    public Sample {
        EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
        copy.putAll(values);
        values = Collections.unmodifiableMap(copy);
    }

    /** The value, or NaN when the run did not measure it. */
    public double get(Metric m) {
        Double v = values.get(m);
        return v == null ? Double.NaN : v;
    }

    /** A copy with one more value. */
    public Sample with(Metric m, double value) {
        EnumMap<Metric, Double> copy = new EnumMap<>(Metric.class);
        copy.putAll(values);
        copy.put(m, value);
        return new Sample(copy);
    }

    /** The result line. */
    public String toLine() {
        StringJoiner j = new StringJoiner(" ", PREFIX + " ", "");
        values.forEach((m, v) -> j.add(m.key() + "=" + String.format(Locale.ROOT, "%.6f", v)));
        return j.toString();
    }

    /** True for a line {@link #toLine()} wrote. */
    public static boolean isResultLine(String line) {
        return line.startsWith(PREFIX + " ");
    }

    /** Reads a result line back. */
    public static Sample parseLine(String line) {
        if (!isResultLine(line)) {
            throw new SdjException("not a benchmark result line: '" + line + "'");
        }
        EnumMap<Metric, Double> v = new EnumMap<>(Metric.class);
        for (String part : line.substring(PREFIX.length()).trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new SdjException("benchmark result line: '" + part + "' is not key=value in '" + line + "'");
            }
            Metric m;
            try {
                m = Metric.ofKey(part.substring(0, eq));
            } catch (IllegalArgumentException e) {
                throw new SdjException("benchmark result line: unknown figure '" + part.substring(0, eq) + "'");
            }
            try {
                v.put(m, Double.parseDouble(part.substring(eq + 1)));
            } catch (NumberFormatException e) {
                throw new SdjException("benchmark result line: '" + part + "' has no number");
            }
        }
        return new Sample(v);
    }
}
