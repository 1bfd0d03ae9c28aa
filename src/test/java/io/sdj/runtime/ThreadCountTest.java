package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link Backend#setThreads}: more threads than processors are cut to the processors (found by the fuzz run). */
class ThreadCountTest {

    @Test
    void aCountAboveTheProcessorsIsCutToThem() {
        assertEquals(2, Backend.threadsFor(1001, 2));
        assertEquals(2, Backend.threadsFor(3, 2));
        assertEquals(8, Backend.threadsFor(Integer.MAX_VALUE, 8));
        assertEquals(1, Backend.threadsFor(5, 0), "at least one thread");
    }

    @Test
    void aCountWithinTheProcessorsIsKept() {
        assertEquals(1, Backend.threadsFor(1, 16));
        assertEquals(16, Backend.threadsFor(16, 16));
    }

    @Test
    void zeroOrLessMeansThePhysicalCores() {
        assertEquals(PhysicalCores.count(), Backend.threadsFor(0, 4));
        assertEquals(PhysicalCores.count(), Backend.threadsFor(-1, 4));
    }

    @Test
    void theCpuBackendTakesTheCutCount() {
        int available = Runtime.getRuntime().availableProcessors();
        try (Backend b = Backend.open("cpu", false)) {
            b.setThreads(available + 1000);
            assertEquals(available, b.threads());
            b.setThreads(1);
            assertEquals(1, b.threads());
        }
    }
}
