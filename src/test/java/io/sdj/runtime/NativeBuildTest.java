package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The own-ggml path without ggml's sources: native/CMakeLists.txt run on a stand-in checkout with ggml's build
 * interface (src/test/resources/fake-ggml), and the Makefile's handling of the mode=built prefix it writes.
 */
class NativeBuildTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();

    private record Run(int status, String output) {
    }

    private static Run run(Path dir, Map<String, String> env, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().remove("SDJ_PREFIX");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd) + " hung: " + out);
        return new Run(p.exitValue(), out);
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** A provisioning command that only leaves a mark. */
    private static Path markingProvision(Path tmp) throws IOException {
        Path script = tmp.resolve("provision-mark.sh");
        Files.writeString(script, "#!/bin/sh\ntouch '" + tmp.resolve("provisioned") + "'\n");
        script.toFile().setExecutable(true);
        return script;
    }

    @Test
    void nativeBuildInstallsPluginsAndTheMakefileKeepsIt(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("cmake") && onPath("cc") && onPath("make"), "needs cmake, a C compiler and make");
        Path prefix = tmp.resolve("prefix");
        Path fake = ROOT.resolve("src/test/resources/fake-ggml");
        // a Debian runtime was there before: make native moves it aside
        Files.createDirectories(prefix);
        Files.writeString(prefix.resolve("runtime.env"), "mode=prefix\nlibdir=/old\n");
        Run nat = run(ROOT, Map.of(), "make", "-s", "native", "PREFIX=" + prefix, "GGML_SOURCE_DIR=" + fake,
                "GGML_CMAKE_FLAGS=-DGGML_NATIVE=ON", "NATIVE_BUILD=" + tmp.resolve("build"));
        assertEquals(0, nat.status(), nat.output());
        assertTrue(nat.output().contains("GGML_NATIVE=ON cannot be combined with GGML_BACKEND_DL"), nat.output());
        assertTrue(nat.output().contains("moved the existing mode=prefix runtime aside"), nat.output());
        assertEquals("mode=prefix\nlibdir=/old\n", Files.readString(tmp.resolve("prefix.previous/runtime.env")));
        Run noSource = run(ROOT, Map.of(), "make", "-s", "native", "PREFIX=" + prefix);
        assertTrue(noSource.status() != 0 && noSource.output().contains("set GGML_SOURCE_DIR"), noSource.output());

        Map<String, String> env = RuntimeLocator.readEnv(prefix.resolve("runtime.env"));
        assertEquals("built", env.get("mode"));
        assertEquals(prefix.resolve("usr/lib").toString(), env.get("libdir"));
        assertTrue(Files.exists(Path.of(env.get("libdir"), "libggml.so.0")));
        assertTrue(Files.exists(Path.of(env.get("libdir"), "libggml-base.so.0")));
        List<String> plugins = new ArrayList<>();
        try (var s = Files.list(Path.of(env.get("backenddir")))) {
            s.forEach(p -> plugins.add(p.getFileName().toString()));
        }
        assertTrue(plugins.contains("libggml-cpu-x64.so") && plugins.contains("libggml-cpu-haswell.so"),
                "every CPU variant as a plugin: " + plugins);
        assertTrue(Files.exists(Path.of(env.get("includedir"), "ggml.h")));

        // make: a mode=built prefix is used as it is, never provisioned
        Path mark = markingProvision(tmp);
        Run runtime = run(ROOT, Map.of(), "make", "-s", "runtime", "PREFIX=" + prefix, "PROVISION=" + mark);
        assertEquals(0, runtime.status(), runtime.output());
        assertTrue(runtime.output().contains("mode=built") && runtime.output().contains("not provisioning"),
                runtime.output());
        assertFalse(Files.exists(tmp.resolve("provisioned")), "make runtime provisioned over a built ggml");
        // make bindings: no provisioning, and the generator accepts mode=built and asks for the host's libclang
        // (a missing one here, so it stops there)
        Run gen = run(ROOT, Map.of("LIBCLANG", tmp.resolve("no-libclang.so").toString()), "make", "-s", "bindings",
                "PREFIX=" + prefix, "PROVISION=" + mark, "BINDINGS_DIR=" + tmp.resolve("gen"),
                "BINDINGS_RESOURCES=" + tmp.resolve("res"));
        assertTrue(gen.status() != 0 && gen.output().contains("mode=built needs the host's libclang"), gen.output());
        assertTrue(gen.output().contains("not provisioning"), gen.output());
        assertFalse(Files.exists(tmp.resolve("provisioned")), "make bindings provisioned over a built ggml");
    }

    @Test
    void provisionedPrefixIsProvisioned(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("make"), "needs make");
        Path prefix = Files.createDirectories(tmp.resolve("prefix"));
        Files.writeString(prefix.resolve("runtime.env"), "mode=prefix\nlibdir=/nowhere\n");
        Path mark = markingProvision(tmp);
        Run runtime = run(ROOT, Map.of(), "make", "-s", "runtime", "PREFIX=" + prefix, "PROVISION=" + mark);
        assertEquals(0, runtime.status(), runtime.output());
        assertTrue(Files.exists(tmp.resolve("provisioned")), runtime.output());
    }
}
