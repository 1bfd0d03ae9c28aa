package io.sdj.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-to-end table: one row per configuration and metric with the median over repetitions, the range, the
 * ratio to the first configuration (the baseline) and, when a --compare command ran, the ratio to its figures.
 * Ratios divide medians measured in the same run, so they survive a noisy machine better than the absolute figures.
 */
public final class ResultTable {
    /** The metrics a --compare command is measured on. */
    public static final List<Metric> COMPARE_METRICS = List.of(Metric.PROCESS, Metric.RSS);

    private final Map<Configuration, List<Sample>> sdj = new LinkedHashMap<>();
    private final Map<Configuration, List<Sample>> compare = new LinkedHashMap<>();
    private final Map<String, List<Sample>> compareByLabel = new LinkedHashMap<>();

    /** Adds an sdj run of a configuration (configurations keep the order of their first run). */
    public void addSdj(Configuration c, Sample s) {
        sdj.computeIfAbsent(c, k -> new ArrayList<>()).add(s);
    }

    /**
     * Adds a --compare run; {@code c} is the configuration it stands beside, or null when one command stands
     * beside them all.
     */
    public void addCompare(Configuration c, Sample s) {
        String label = c == null ? "compare" : "compare " + c.type();
        compareByLabel.computeIfAbsent(label, k -> new ArrayList<>()).add(s);
        if (c != null) {
            compare.computeIfAbsent(c, k -> new ArrayList<>()).add(s);
        }
    }

    /** Median of one metric over a configuration's sdj runs. */
    public double median(Configuration c, Metric m) {
        return Stats.median(values(sdj.getOrDefault(c, List.of()), m));
    }

    /** Median of one metric over the compare runs that stand beside {@code c}. */
    public double compareMedian(Configuration c, Metric m) {
        List<Sample> s = compare.get(c);
        if (s == null) {
            s = compareByLabel.get("compare");
        }
        return s == null ? Double.NaN : Stats.median(values(s, m));
    }

    /** The table as plain text. */
    public String render(String title) {
        List<Configuration> configs = new ArrayList<>(sdj.keySet());
        boolean withCompare = !compareByLabel.isEmpty();
        Configuration base = configs.isEmpty() ? null : configs.getFirst();
        String baseHeader = base == null ? "vs base" : "vs " + base.label();
        int labelWidth = 13;
        for (Configuration c : configs) {
            labelWidth = Math.max(labelWidth, c.label().length());
        }
        for (String l : compareByLabel.keySet()) {
            labelWidth = Math.max(labelWidth, l.length());
        }
        String rowFormat = "%-" + labelWidth + "s  %-17s %10s %10s %10s %12s" + (withCompare ? " %11s" : "");
        StringBuilder out = new StringBuilder();
        out.append(title.stripTrailing()).append('\n');
        row(out, rowFormat, withCompare
                ? new Object[]{"configuration", "metric", "median", "min", "max", baseHeader, "vs compare"}
                : new Object[]{"configuration", "metric", "median", "min", "max", baseHeader});
        for (Configuration c : configs) {
            List<Sample> runs = sdj.get(c);
            for (Metric m : Metric.values()) {
                List<Double> v = values(runs, m);
                double med = Stats.median(v);
                if (Double.isNaN(med)) {
                    continue;
                }
                String vsBase = c.equals(base) ? "1.00x" : ratio(Stats.ratio(med, median(base, m)));
                String vsCompare = COMPARE_METRICS.contains(m) ? ratio(Stats.ratio(med, compareMedian(c, m))) : "";
                Object[] cells = withCompare
                        ? new Object[]{c.label(), m.label(), value(med, m), value(Stats.min(v), m),
                        value(Stats.max(v), m), vsBase, vsCompare}
                        : new Object[]{c.label(), m.label(), value(med, m), value(Stats.min(v), m),
                        value(Stats.max(v), m), vsBase};
                row(out, rowFormat, cells);
            }
        }
        for (Map.Entry<String, List<Sample>> e : compareByLabel.entrySet()) {
            for (Metric m : COMPARE_METRICS) {
                List<Double> v = values(e.getValue(), m);
                double med = Stats.median(v);
                if (Double.isNaN(med)) {
                    continue;
                }
                row(out, rowFormat, e.getKey(), m.label(), value(med, m), value(Stats.min(v), m),
                        value(Stats.max(v), m), "", "");
            }
        }
        return out.toString();
    }

    private static void row(StringBuilder out, String format, Object... cells) {
        out.append(String.format(Locale.ROOT, format, cells).stripTrailing()).append('\n');
    }

    private static List<Double> values(List<Sample> runs, Metric m) {
        return runs.stream().map(s -> s.get(m)).toList();
    }

    private static String value(double v, Metric m) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return m.unit().equals("MiB")
                ? String.format(Locale.ROOT, "%.0f MiB", v)
                : String.format(Locale.ROOT, "%.3f s", v);
    }

    private static String ratio(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r);
    }
}
