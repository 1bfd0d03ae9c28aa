package io.sdj.bench;

import io.sdj.SdjException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SampleTest {

    @Test
    void lineRoundTrips() {
        Sample s = new Sample(Map.of(Metric.LOAD, 12.5, Metric.STEP, 3.25, Metric.RSS, 2048.0));
        String line = s.toLine();
        assertTrue(line.startsWith("sdj-bench-result load=12.5"), line);
        Sample back = Sample.parseLine(line);
        assertEquals(12.5, back.get(Metric.LOAD), 1e-9);
        assertEquals(3.25, back.get(Metric.STEP), 1e-9);
        assertEquals(2048.0, back.get(Metric.RSS), 1e-9);
        assertTrue(Double.isNaN(back.get(Metric.DECODE)));
        assertEquals(7.0, back.with(Metric.PROCESS, 7.0).get(Metric.PROCESS));
    }

    @Test
    void otherLinesAreRejected() {
        assertFalse(Sample.isResultLine("[main] INFO loaded"));
        assertThrows(SdjException.class, () -> Sample.parseLine("hello"));
        assertThrows(SdjException.class, () -> Sample.parseLine("sdj-bench-result load"));
        assertThrows(SdjException.class, () -> Sample.parseLine("sdj-bench-result speed=3"));
        assertThrows(SdjException.class, () -> Sample.parseLine("sdj-bench-result load=fast"));
    }

    @Test
    void peakRssReadsVmHwm() {
        assertEquals(2.0, PeakRss.parseVmHwm("Name:\tjava\nVmPeak:\t 9999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n"));
        assertTrue(Double.isNaN(PeakRss.parseVmHwm("Name:\tjava\n")));
        if (java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/status"))) {
            double mib = PeakRss.mebibytes();
            assertTrue(mib > 1 && mib < 1 << 20, "VmHWM of this JVM: " + mib);
        }
    }
}
