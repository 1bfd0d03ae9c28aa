package io.sdj.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The search order: explicit, per-user, project prefix by code location, system; never the working directory. */
class RuntimeLocatorTest {

    private static Path env(Path prefixDir, String libdir, String backenddir) throws Exception {
        Files.createDirectories(prefixDir);
        Path f = prefixDir.resolve("runtime.env");
        Files.writeString(f, "mode=prefix\nlibdir=" + libdir + "\n" + (backenddir == null ? "" : "backenddir=" + backenddir + "\n"));
        return f;
    }

    @Test
    void orderIsExplicitUserProjectSystem(@TempDir Path tmp) throws Exception {
        Path user = tmp.resolve("cache/sdj/runtime/0.27.0");
        env(user.resolve("prefix"), "/u/lib", "/u/backends");
        Path checkout = tmp.resolve("checkout");
        env(checkout.resolve("native/prefix"), "/p/lib", null);
        Path classes = Files.createDirectories(checkout.resolve("target/classes"));

        List<RuntimeLocator.Candidate> c = RuntimeLocator.candidates(
                new RuntimeLocator.Inputs("/e/lib", user, classes, "/ld/one::/ld/two"));
        assertEquals(Path.of("/e/lib"), c.get(0).libraryDir());
        assertTrue(c.get(0).foundBy().startsWith("explicit"), c.get(0).foundBy());
        assertEquals(Path.of("/u/lib"), c.get(1).libraryDir());
        assertTrue(c.get(1).foundBy().startsWith("per-user runtime"), c.get(1).foundBy());
        assertEquals(Path.of("/p/lib"), c.get(2).libraryDir());
        assertTrue(c.get(2).foundBy().startsWith("project prefix"), c.get(2).foundBy());
        assertEquals(Path.of("/ld/one"), c.get(3).libraryDir());
        assertEquals(Path.of("/ld/two"), c.get(4).libraryDir());
        assertTrue(c.stream().skip(3).allMatch(x -> x.foundBy().equals("system library folder")));
        assertEquals(Path.of("/u/backends"), RuntimeLocator.backendDir(c.get(1), null));
        assertEquals(Path.of("/x"), RuntimeLocator.backendDir(c.get(1), "/x"), "the explicit backend folder wins");
    }

    @Test
    void jarOutsideACheckoutHasNoProjectPrefix(@TempDir Path tmp) throws Exception {
        Path jar = Files.createDirectories(tmp.resolve("m2/io/sdj/sdj/0.1.0")).resolve("sdj-0.1.0.jar");
        Files.writeString(jar, "");
        assertNull(RuntimeLocator.findProjectEnv(jar));
        List<RuntimeLocator.Candidate> c = RuntimeLocator.candidates(
                new RuntimeLocator.Inputs(null, tmp.resolve("no-user-runtime"), jar, null));
        assertTrue(c.stream().allMatch(x -> x.foundBy().equals("system library folder")), c.toString());
    }

    @Test
    void explicitFileMeansItsFolder(@TempDir Path tmp) throws Exception {
        Path lib = Files.writeString(tmp.resolve("libggml.so.0"), "");
        var c = RuntimeLocator.candidates(new RuntimeLocator.Inputs(lib.toString(), null, null, null));
        assertEquals(tmp, c.getFirst().libraryDir());
    }

    /** This test JVM's own classes live in the checkout: its prefix is found from them, not from the CWD. */
    @Test
    void thisCheckoutIsFoundFromTheClassLocation() {
        Path expected = Path.of("native/prefix/runtime.env").toAbsolutePath();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(expected),
                "the runtime is not in this checkout's native/prefix (PREFIX=...)");
        assertEquals(expected, RuntimeLocator.findProjectEnv(RuntimeLocator.codeLocation()));
    }
}
