package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhysicalCoresTest {

    private static void cpu(Path root, int n, String siblings) throws IOException {
        Path topo = Files.createDirectories(root.resolve("cpu" + n).resolve("topology"));
        Files.writeString(topo.resolve("thread_siblings"), siblings + "\n");
    }

    @Test
    void hyperThreadSiblingsCountOnce(@TempDir Path root) throws IOException {
        cpu(root, 0, "00000011");
        cpu(root, 1, "00000011");
        cpu(root, 2, "00000044");
        cpu(root, 3, "00000044");
        assertEquals(2, PhysicalCores.count(root, 4));
        assertEquals(1, PhysicalCores.count(root, 1), "never more than the JVM may use");
    }

    @Test
    void withoutTopologyTheAvailableProcessorsCount(@TempDir Path root) {
        assertEquals(3, PhysicalCores.count(root, 3));
    }

    @Test
    void thisMachineHasAtLeastOne() {
        int n = PhysicalCores.count();
        assertTrue(n >= 1 && n <= Runtime.getRuntime().availableProcessors(), "cores " + n);
    }
}
