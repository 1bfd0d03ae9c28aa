package io.sdj.bench;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MeasuredProcessTest {

    @Test
    void capturesOutputExitCodeAndWallTime(@TempDir Path dir) {
        MeasuredProcess p = MeasuredProcess.run(List.of("/bin/sh", "-c", "echo one; echo two; echo oops >&2; exit 3"),
                false, false, dir, "t");
        assertEquals(3, p.exitCode());
        assertEquals(List.of("one", "two"), p.stdout());
        assertEquals("oops", p.tail(5));
        assertTrue(p.wallSeconds() > 0 && p.wallSeconds() < 30, "wall " + p.wallSeconds());
        assertTrue(Double.isNaN(p.peakRssMiB()));
    }

    @Test
    void gnuTimeGivesThePeakRssOfTheCommand(@TempDir Path dir) {
        Assumptions.assumeTrue(MeasuredProcess.canMeasureRss(), "no GNU time at /usr/bin/time");
        // a child that holds ~64 MiB resident: the peak must show it
        MeasuredProcess small = MeasuredProcess.run(List.of("/bin/sh", "-c", "true"), true, false, dir, "small");
        MeasuredProcess big = MeasuredProcess.run(List.of("/bin/sh", "-c",
                "head -c 67108864 /dev/zero | tail -c 67108864 > /dev/null"), true, false, dir, "big");
        assertEquals(0, big.exitCode());
        assertTrue(small.peakRssMiB() > 0 && small.peakRssMiB() < 32, "small " + small.peakRssMiB());
        assertTrue(big.peakRssMiB() > 60, "big " + big.peakRssMiB());
    }

    @Test
    void timeFileLastLineIsTheFigure(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("t.time");
        Files.writeString(f, "Command exited with non-zero status 1\n2048\n");
        assertEquals(2.0, MeasuredProcess.readTimeFile(f));
        assertTrue(Double.isNaN(MeasuredProcess.readTimeFile(dir.resolve("none"))));
    }

    @Test
    void jmhGetsTheLauncherUnlessToldOtherwise() {
        String[] given = {"-jvm", "/x/java", "TokenizerBench"};
        assertArrayEquals(given, JmhMain.withLauncher(given));
        String[] list = {"-l"};
        assertArrayEquals(list, JmhMain.withLauncher(list));
        String[] added = JmhMain.withLauncher(new String[]{"TokenizerBench"});
        assertEquals("-jvm", added[0]);
        assertTrue(added[1].endsWith("native/bin/java"), added[1]);
        assertEquals("TokenizerBench", added[2]);
    }
}
