package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * native/provision.sh when Debian sid drops a pinned version: it falls back to the version the suite has now,
 * re-pins the lock, says so loudly and finishes (the tests then judge). Run against a stand-in apt-get
 * (src/test/resources/fake-apt) whose "mirror" is a list of package versions, so no network is involved.
 */
class ProvisionFallbackTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final String PACKAGES = """
            libc6 2.43-1
            libggml-dev 0.27.0-1
            libggml0-backend-blas 0.27.0-1
            libopenblas0-openmp 0.3.34-1
            libggml0-backend-vulkan 0.27.0-1
            mesa-vulkan-drivers 26.0-1
            libclang1-19 19.1-1
            libclang-common-19-dev 19.1-1
            libc6-dev 2.43-1
            linux-libc-dev 6.17-1
            """;

    private record Run(int status, String output) {
    }

    private static Run provision(Path tmp, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", tmp.resolve("native/provision.sh").toString())
                .redirectErrorStream(true);
        var e = pb.environment();
        e.put("PATH", tmp.resolve("bin") + ":" + e.get("PATH"));
        e.put("FAKE_MIRROR", tmp.resolve("mirror.txt").toString());
        e.put("SDJ_PREFIX", tmp.resolve("prefix").toString());
        e.put("SDJ_NATIVE_CACHE", tmp.resolve("cache").toString());
        e.put("SDJ_USE_SYSTEM_GGML", "0");
        for (int i = 0; i + 1 < env.length; i += 2) {
            e.put(env[i], env[i + 1]);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "provision.sh hung: " + out);
        return new Run(p.exitValue(), out);
    }

    private static String pinned(Path lock, String name) throws IOException {
        return Files.readAllLines(lock).stream().filter(l -> l.startsWith(name + " ")).map(l -> l.split(" ")[1])
                .findFirst().orElse(null);
    }

    @Test
    void vanishedPinFallsBackAndRepins(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/dpkg-deb")) && "amd64".equals(System.getProperty("os.arch")),
                "needs dpkg-deb on x86_64");
        Files.createDirectories(tmp.resolve("native"));
        Files.createDirectories(tmp.resolve("bin"));
        Files.copy(ROOT.resolve("native/provision.sh"), tmp.resolve("native/provision.sh"));
        Path apt = tmp.resolve("bin/apt-get");
        Files.copy(ROOT.resolve("src/test/resources/fake-apt/apt-get"), apt, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(apt.toFile().setExecutable(true));
        Path lock = tmp.resolve("native/runtime.lock");

        Files.writeString(tmp.resolve("mirror.txt"), PACKAGES + "libggml0 0.27.0-1\n");
        Run first = provision(tmp);
        assertEquals(0, first.status(), first.output());
        assertEquals("0.27.0-1", pinned(lock, "libggml0"));
        Map<String, String> env = RuntimeLocator.readEnv(tmp.resolve("prefix/runtime.env"));
        assertEquals("prefix", env.get("mode"), first.output());

        // sid uploads 0.28 and drops 0.27; a fresh clone's cache does not have the old .deb
        Files.writeString(tmp.resolve("mirror.txt"), PACKAGES + "libggml0 0.28.0-1\n");
        try (var s = Files.list(tmp.resolve("cache/debs"))) {
            for (Path d : s.filter(p -> p.getFileName().toString().startsWith("libggml0_")).toList()) {
                Files.delete(d);
            }
        }
        Run refused = provision(tmp, "SDJ_NO_REPIN", "1");
        assertNotEquals(0, refused.status(), refused.output());
        assertTrue(refused.output().contains("libggml0 0.27.0-1 (the mirror now has: 0.28.0-1)"), refused.output());
        assertEquals("0.27.0-1", pinned(lock, "libggml0"), "SDJ_NO_REPIN keeps the lock");

        Run moved = provision(tmp);
        assertEquals(0, moved.status(), moved.output());
        assertTrue(moved.output().contains("WARNING: Debian sid no longer offers these pinned versions"), moved.output());
        assertTrue(moved.output().contains("re-pinning runtime.lock"), moved.output());
        assertEquals("0.28.0-1", pinned(lock, "libggml0"), moved.output());
        assertEquals("0.28.0-1\n", Files.readString(tmp.resolve(
                "prefix/usr/lib/x86_64-linux-gnu/ggml/backends0/libggml-cpu-x64.so")), "the prefix has the new version");

        Run again = provision(tmp);
        assertEquals(0, again.status(), again.output());
        assertFalse(again.output().contains("WARNING"), again.output());
        assertTrue(again.output().contains("up to date"), again.output());
    }
}
