package io.sdj.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultTableTest {
    private static final Configuration F16 = new Configuration("f16", "cpu");
    private static final Configuration Q4 = new Configuration("q4_0", "cpu");

    private static Sample sdj(double step, double process, double rss) {
        return new Sample(Map.of(Metric.STEP, step, Metric.PROCESS, process, Metric.RSS, rss));
    }

    @Test
    void mediansIgnoreMissingValues() {
        assertEquals(2.0, Stats.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, Stats.median(List.of(4.0, 1.0, Double.NaN, 2.0, 3.0)));
        assertTrue(Double.isNaN(Stats.median(List.of(Double.NaN))));
        assertEquals(1.0, Stats.min(List.of(3.0, 1.0)));
        assertEquals(3.0, Stats.max(List.of(3.0, 1.0)));
        assertTrue(Double.isNaN(Stats.ratio(1, 0)));
    }

    @Test
    void ratiosAreAgainstTheFirstConfigurationAndTheCompareCommand() {
        ResultTable t = new ResultTable();
        t.addSdj(F16, sdj(4, 40, 3000));
        t.addSdj(Q4, sdj(2, 30, 1500));
        t.addSdj(F16, sdj(6, 60, 3000));
        t.addSdj(Q4, sdj(2, 50, 1500));
        t.addCompare(null, new Sample(Map.of(Metric.PROCESS, 25.0, Metric.RSS, 1000.0)));
        assertEquals(5.0, t.median(F16, Metric.STEP));
        assertEquals(25.0, t.compareMedian(Q4, Metric.PROCESS));
        String text = t.render("title");
        assertTrue(text.startsWith("title\nconfiguration"), text);
        String q4Step = line(text, "q4_0/cpu", "sampling / step");
        assertTrue(q4Step.contains("2.000 s") && q4Step.contains("0.40x"), q4Step);
        String f16Process = line(text, "f16/cpu", "process wall");
        assertTrue(f16Process.contains("50.000 s") && f16Process.contains("1.00x") && f16Process.contains("2.00x"),
                f16Process);
        String q4Rss = line(text, "q4_0/cpu", "peak RSS");
        assertTrue(q4Rss.contains("1500 MiB") && q4Rss.contains("0.50x") && q4Rss.contains("1.50x"), q4Rss);
        assertTrue(line(text, "compare ", "peak RSS").contains("1000 MiB"), text);
    }

    @Test
    void perTypeCompareRunsStandBesideTheirConfiguration() {
        ResultTable t = new ResultTable();
        t.addSdj(F16, sdj(4, 40, 3000));
        t.addSdj(Q4, sdj(2, 30, 1500));
        t.addCompare(F16, new Sample(Map.of(Metric.PROCESS, 20.0, Metric.RSS, 2000.0)));
        t.addCompare(Q4, new Sample(Map.of(Metric.PROCESS, 60.0, Metric.RSS, 1000.0)));
        String text = t.render("t");
        assertTrue(line(text, "q4_0/cpu", "process wall").contains("0.50x"), text);
        assertTrue(line(text, "f16/cpu", "process wall").contains("2.00x"), text);
        assertTrue(line(text, "compare q4_0", "process wall").contains("60.000 s"), text);
    }

    @Test
    void withoutCompareThereIsNoCompareColumn() {
        ResultTable t = new ResultTable();
        t.addSdj(F16, sdj(4, 40, 3000));
        String text = t.render("t");
        assertTrue(!text.contains("vs compare"), text);
        assertTrue(text.lines().noneMatch(l -> l.endsWith(" ")), text);
    }

    private static String line(String text, String config, String metric) {
        return text.lines().filter(l -> l.startsWith(config) && l.contains(metric)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + config + " / " + metric + " in\n" + text));
    }
}
