package io.sdj.cli;

import io.sdj.pipeline.Phase;
import io.sdj.pipeline.Progress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressPrinterTest {

    @Test
    void barHasFiftyCellsAndAHead() {
        assertEquals("|" + " ".repeat(50) + "|", ProgressPrinter.bar(0, 20));
        assertEquals("|" + "=".repeat(25) + ">" + " ".repeat(24) + "|", ProgressPrinter.bar(10, 20));
        assertEquals("|" + "=".repeat(2) + ">" + " ".repeat(47) + "|", ProgressPrinter.bar(1, 20));
        assertEquals("|" + "=".repeat(50) + "|", ProgressPrinter.bar(20, 20));
    }

    @Test
    void rateIsSecondsPerStepOrStepsPerSecond() {
        assertEquals("1.23s/it", ProgressPrinter.rate(1.234));
        assertEquals("4.00it/s", ProgressPrinter.rate(0.25));
        assertEquals("0.00s/it", ProgressPrinter.rate(0));
    }

    @Test
    void plainOutputIsOneLinePerStep() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressPrinter p = new ProgressPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 2);
        p.onProgress(new Progress(Phase.LOADING_WEIGHTS, 1, 2, 0, 0.1));
        p.onProgress(new Progress(Phase.LOADING_WEIGHTS, 2, 2, 0, 0.2));
        p.onProgress(new Progress(Phase.SAMPLING, 0, 2, 1, 0));
        p.onProgress(new Progress(Phase.SAMPLING, 1, 2, 1, 2.5));
        p.onProgress(new Progress(Phase.SAMPLING, 2, 2, 1, 3.0));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"), text);
        assertEquals("""
                loaded 2 tensors in 0.20s
                sampling image 2/2: step 1/2 - 2.50s/it
                sampling image 2/2: step 2/2 - 2.00it/s
                """, text.replace(System.lineSeparator(), "\n"));
    }

    @Test
    void terminalOutputRedrawsInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressPrinter p = new ProgressPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 1);
        p.onProgress(new Progress(Phase.SAMPLING, 0, 2, 0, 0));
        p.onProgress(new Progress(Phase.SAMPLING, 1, 2, 0, 1.5));
        p.onProgress(new Progress(Phase.SAMPLING, 2, 2, 0, 3.0));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\r|" + "=".repeat(25) + ">"), text);
        assertTrue(text.contains(" 1/2 - 1.50s/it"), text);
        assertTrue(text.contains("\r|" + "=".repeat(50) + "| 2/2 - 1.50s/it"), text);
        assertTrue(text.endsWith(System.lineSeparator()), text);
        assertEquals(1, text.split(System.lineSeparator(), -1).length - 1, "only the finished bar ends a line");
    }
}
