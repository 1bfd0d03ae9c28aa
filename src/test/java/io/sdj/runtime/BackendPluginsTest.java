package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ggml's backend plugins register in two stages: a CPU run starts no GPU backend. */
class BackendPluginsTest {

    @Test
    void groupsPluginFilesByBackendNameInGgmlsOrder(@TempDir Path dir) throws IOException {
        for (String f : List.of("libggml-cpu-zen4.so", "libggml-cpu-x64.so", "libggml-vulkan.so", "libggml-base.so",
                "libggml.so", "libggml-blas.so", "libggml-cuda.so.0", "libggml-zz.so", "README", "libggml-.so")) {
            Files.writeString(dir.resolve(f), "");
        }
        Files.createDirectory(dir.resolve("libggml-rpc.so"));
        BackendPlugins plugins = new BackendPlugins(dir);
        Map<String, List<Path>> files = plugins.files();
        assertEquals(List.of(dir.resolve("libggml-cpu-x64.so"), dir.resolve("libggml-cpu-zen4.so")), files.get("cpu"));
        assertEquals(List.of("blas", "vulkan", "cpu", "zz"), plugins.names(), files.toString());
    }

    @Test
    void bestSkipsVulkanOnlyWhenLavapipeIsTheOnlyDriver() {
        assertTrue(GgmlLibrary.vulkanIsSoftwareOnly(Map.of("VK_DRIVER_FILES", "/x/prefix/lavapipe_icd.json")));
        assertTrue(GgmlLibrary.vulkanIsSoftwareOnly(Map.of("VK_ICD_FILENAMES",
                "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json:")));
        assertFalse(GgmlLibrary.vulkanIsSoftwareOnly(Map.of("VK_DRIVER_FILES",
                "/usr/share/vulkan/icd.d/lvp_icd.json:/usr/share/vulkan/icd.d/nvidia_icd.json")));
        assertFalse(GgmlLibrary.vulkanIsSoftwareOnly(Map.of("VK_DRIVER_FILES", "/etc/vulkan/icd.d/radeon_icd.json",
                "VK_ICD_FILENAMES", "/x/lvp_icd.json")), "VK_DRIVER_FILES wins over the older variable");
        assertFalse(GgmlLibrary.vulkanIsSoftwareOnly(Map.of()), "no override: the loader may find any driver");
        assertFalse(GgmlLibrary.vulkanIsSoftwareOnly(Map.of("VK_DRIVER_FILES", " : ")));
    }

    @Test
    void theCpuStageStartsNoGpuBackendAndPicksGgmlsVariant() throws Exception {
        Path backends = GgmlLibrary.load().backendDir();
        if (backends == null) {
            return; // a runtime without plugins registers everything at once; nothing staged to check
        }
        String staged = probe("staged");
        List<String> lines = staged.lines().filter(l -> l.startsWith("registered ")).toList();
        assertEquals(2, lines.size(), staged);
        assertTrue(lines.get(0).contains("CPU"), staged);
        assertFalse(lines.get(0).contains("Vulkan") || lines.get(0).contains("CUDA"), staged);
        if (Files.exists(backends.resolve("libggml-vulkan.so"))) {
            assertTrue(lines.get(1).contains("Vulkan"), "the device list registers the rest: " + staged);
        }
        if (GgmlLibrary.vulkanIsSoftwareOnly(System.getenv())) { // the launcher's lavapipe-only setting
            String best = probe("best");
            assertFalse(line(best, "registered ").contains("Vulkan"), "best skips a lavapipe-only Vulkan: " + best);
            if (!line(best, "registered ").contains("CUDA")) {
                assertEquals("chosen CPU", line(best, "chosen "), best);
            }
        }
        String ggml = probe("ggml");
        assertEquals(line(ggml, "features "), line(staged, "features "),
                "the CPU variant sdj registers is the one ggml's own loader picks");
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(out));
    }

    private static String probe(String mode) throws IOException, InterruptedException {
        String launcher = System.getProperty("sdj.test.launcher");
        Path java = launcher != null ? Path.of(launcher) : Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), BackendPluginsProbe.class.getName(), mode)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
