package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JVM whose ggml does not match the bindings' header record stops at load with one clear error. The real library
 * is kept; the record is replaced (-Dsdj.ggml.expectations) by one that says something else.
 */
class GgmlMismatchTest {

    /** The probes' working folders and fake records (deleted after the class). */
    @TempDir
    static Path scratch;

    static Path launcher() {
        return Path.of(System.getProperty("sdj.test.launcher", "native/bin/java")).toAbsolutePath();
    }

    /** The packaged record with some lines replaced. */
    private static Path fakeRecord(String... replacements) throws IOException {
        List<String> lines = new ArrayList<>();
        try (var in = GgmlMismatchTest.class.getClassLoader().getResourceAsStream(GgmlExpectations.RESOURCE)) {
            assertTrue(in != null, "bindings/generate.sh wrote no " + GgmlExpectations.RESOURCE);
            for (String l : new String(in.readAllBytes()).split("\n")) {
                boolean replaced = false;
                for (String r : replacements) {
                    if (l.startsWith(r.substring(0, r.indexOf('=') + 1))) {
                        replaced = true;
                    }
                }
                if (!replaced) {
                    lines.add(l);
                }
            }
        }
        lines.addAll(List.of(replacements));
        Path f = Files.createTempFile(scratch, "fake-ggml", ".properties");
        Files.write(f, lines);
        return f;
    }

    static String runProbe(String... props) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(launcher().toString()));
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RuntimeProbe.class.getName()));
        Process p = new ProcessBuilder(cmd).directory(Files.createTempDirectory(scratch, "cwd").toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe hung: " + out);
        return out;
    }

    /** The loaded library's own version, or null when it does not export one. */
    private static String libraryVersion() {
        GgmlLibrary.load();
        return GgmlAbiCheck.report().version();
    }

    @Test
    void renumberedTypesStopTheLoad() throws Exception {
        Path fake = fakeRecord("ggml.version=0.0.1-fake", "GGML_TYPE_Q8_0=9");
        String out = runProbe("-D" + GgmlExpectations.OVERRIDE_PROPERTY + "=" + fake);
        assertTrue(out.contains("RuntimeUnavailableException"), out);
        String version = libraryVersion();
        assertTrue(out.contains("0.0.1-fake") && out.contains(version == null ? "unknown version" : "version " + version),
                out);
        assertTrue(out.contains("GGML_TYPE_Q8_0 is 9 but sdj uses 8"), out);
        assertTrue(out.contains("make bindings build"), out);
        assertTrue(!out.contains("loaded from"), out);
    }

    @Test
    void otherVersionWithTheSameLayoutIsRefusedUnlessAllowed() throws Exception {
        Path fake = fakeRecord("ggml.version=0.0.2-fake");
        String refused = runProbe("-D" + GgmlExpectations.OVERRIDE_PROPERTY + "=" + fake);
        assertTrue(refused.contains("RuntimeUnavailableException") && refused.contains("0.0.2-fake")
                && refused.contains("layouts agree"), refused);
        String allowed = runProbe("-D" + GgmlExpectations.OVERRIDE_PROPERTY + "=" + fake,
                "-D" + GgmlAbiCheck.ALLOW_VERSION_PROPERTY + "=true");
        assertTrue(allowed.contains("loaded from"), allowed);
    }

    @Test
    void theRealRecordMatches() throws Exception {
        String out = runProbe();
        assertTrue(out.contains("loaded from"), out);
    }
}
