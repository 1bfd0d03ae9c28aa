package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-user runtime folder: the jar's bundled tooling lands there, and its bin/java launcher starts a JVM that
 * loads the runtime its prefix describes, from any working directory.
 */
class UserRuntimeTest {

    @Test
    void prepareCopiesTheToolingAndNamesTheProvisioningCommand(@TempDir Path home) throws Exception {
        List<String> cmd = UserRuntime.prepare(home, true, false);
        for (String f : UserRuntime.FILES) {
            assertTrue(Files.isRegularFile(home.resolve(f)), f);
        }
        assertTrue(Files.isExecutable(home.resolve("bin/java")) && Files.isExecutable(home.resolve("provision.sh")));
        assertEquals(List.of("bash", home.resolve("provision.sh").toString(), "--cuda"), cmd);
        assertEquals(Files.readString(Path.of("native/runtime.lock")), Files.readString(home.resolve("runtime.lock")));
    }

    @Test
    void homeIsVersionedUnderTheUserCache() {
        Path h = UserRuntime.home();
        if (System.getenv("SDJ_RUNTIME_HOME") == null && System.getProperty("sdj.runtime.home") == null) {
            assertTrue(h.getParent().endsWith(Path.of("sdj", "runtime")), h.toString());
            assertEquals(UserRuntime.bindingsVersion(), h.getFileName().toString());
        }
        assertEquals(h.resolve("bin/java"), UserRuntime.launcher());
    }

    /** The launcher copied into a per-user folder whose prefix/runtime.env describes this machine's runtime. */
    @Test
    void launcherWorksFromThePerUserFolder(@TempDir Path home) throws Exception {
        UserRuntime.prepare(home, false, false);
        String prefix = System.getenv("SDJ_PREFIX"); // make exports it; else the checkout's
        Path projectEnv = prefix != null ? Path.of(prefix, "runtime.env")
                : RuntimeLocator.findProjectEnv(RuntimeLocator.codeLocation());
        assertTrue(projectEnv != null && Files.isRegularFile(projectEnv), "no runtime.env to describe: " + projectEnv);
        Files.createDirectories(home.resolve("prefix"));
        Files.copy(projectEnv, home.resolve("prefix/runtime.env"));
        String libdir = RuntimeLocator.readEnv(projectEnv).get("libdir");

        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/java").toString(), "-cp",
                System.getProperty("java.class.path"), RuntimeProbe.class.getName())
                .directory(Files.createDirectories(home.resolve("cwd")).toFile()).redirectErrorStream(true);
        pb.environment().remove("SDJ_PREFIX"); // the launcher must use the prefix beside it
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertTrue(out.contains("loaded from") && out.contains(libdir), out);
    }
}
