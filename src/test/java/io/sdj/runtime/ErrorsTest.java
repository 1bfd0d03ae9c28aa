package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Misuse gives clear Java exceptions, never a native crash. */
class ErrorsTest {

    @Test
    void unknownBackendNameListsTheDevices() {
        UnknownBackendException e = assertThrows(UnknownBackendException.class, () -> Backend.open("tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        assertTrue(e.getMessage().contains("cpu"), e.getMessage());
    }

    @Test
    void devicesIncludeCpuAndVulkan() {
        List<DeviceInfo> devices = Backend.devices();
        assertTrue(devices.stream().anyMatch(d -> d.type() == DeviceInfo.Type.CPU), devices.toString());
        assertTrue(devices.stream().anyMatch(d -> d.backend().equalsIgnoreCase("vulkan")),
                "no Vulkan device (lavapipe should be provisioned by make runtime): " + devices);
    }

    @Test
    void closedTensorIsRejected() {
        Tensor t;
        try (Graph g = new Graph("closing")) {
            t = g.input("x", GgmlType.F32, 4);
            assertEquals(4, t.ne(0));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.ne(0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        try (Graph other = new Graph("other")) {
            assertThrows(IllegalStateException.class, () -> other.silu(t));
        }
    }

    @Test
    void shapeMistakesAreJavaExceptions() {
        try (Graph g = new Graph("shapes")) {
            Tensor a = g.input("a", GgmlType.F32, 4, 3);
            Tensor b = g.input("b", GgmlType.F32, 5, 3);
            assertThrows(GgmlException.class, () -> g.mulMat(a, b));
            assertThrows(GgmlException.class, () -> g.add(a, b));
            assertThrows(GgmlException.class, () -> g.reshape(a, 5));
            assertThrows(GgmlException.class, () -> g.permute(a, 0, 0, 1, 2));
            assertThrows(GgmlException.class, () -> g.concat(a, b, 1));
        }
    }

    @Test
    void wrongDataSizeIsRejected() {
        try (Graph g = new Graph("size")) {
            Tensor a = g.input("a", GgmlType.F32, 4);
            Tensor out = g.scale(a, 2f);
            try (CompiledGraph c = g.compile(Backends.get("cpu"), out)) {
                assertThrows(GgmlException.class, () -> a.setFloats(new float[3]));
            }
        }
    }

    @Test
    void dataBeforeAllocationIsRejected() {
        try (WeightStore w = new WeightStore("early", 1)) {
            Tensor t = w.create("t", GgmlType.F32, 2);
            assertThrows(IllegalStateException.class, () -> t.setFloats(new float[2]));
        }
    }

    /** A JVM that cannot find the runtime says where it looked and what to do. */
    @Test
    void missingRuntimeExplainsWhereItLooked(@TempDir Path cwd) throws Exception {
        String out = runProbe(cwd, "-Dsdj.ggml.path=/nonexistent/ggml");
        assertTrue(out.contains("RuntimeUnavailableException"), out);
        assertTrue(out.contains("/nonexistent/ggml"), out);
        assertTrue(out.contains("make runtime"), out);
    }

    /** The prefix libraries need sid's glibc: a plain JVM gets told to use the launcher. */
    @Test
    void brokenRuntimeExplainsTheLoaderProblem() throws Exception {
        Path lib = GgmlLibrary.load().libraryDir();
        String out = runProbe(Path.of("").toAbsolutePath(), "-Dsdj.ggml.path=" + lib);
        if (out.contains("loaded from")) {
            return; // this host's glibc can load the libraries directly: nothing broken to report
        }
        assertTrue(out.contains("RuntimeUnavailableException"), out);
        assertTrue(out.contains(lib.toString()), out);
    }

    private static String runProbe(Path cwd, String property) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", property,
                "-cp", System.getProperty("java.class.path"), RuntimeProbe.class.getName())
                .directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }
}
