package io.sdj.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The per-user ggml runtime: a copy of the project's {@code native/} tooling (provision.sh, the lock files,
 * find-jdk.sh and the {@code bin/java} launcher, all bundled in the jar) in
 * {@code $XDG_CACHE_HOME/sdj/runtime/<ggml version>} (default {@code ~/.cache/sdj/runtime/<ggml version>}), whose
 * {@code prefix/} is provisioned from Debian's packages exactly as {@code make runtime} does for a checkout.
 * {@code sdj.runtime.home} / {@code SDJ_RUNTIME_HOME} replace that folder.
 *
 * <p>{@code <home>/bin/java} is the launcher any Java command can go through when the host's glibc is older than the
 * runtime's: it starts the JDK under the prefix's own loader and tells sdj where the libraries are.
 */
public final class UserRuntime {
    /** Files bundled from native/ under this class-path folder (see pom.xml). */
    static final String BUNDLE = "io/sdj/runtime/native/";
    static final List<String> FILES = List.of("provision.sh", "runtime.lock", "runtime-cuda.lock", "find-jdk.sh",
            "bin/java");

    private UserRuntime() {
    }

    /** The per-user runtime folder for the ggml version these bindings were generated for. */
    public static Path home() {
        String explicit = System.getProperty("sdj.runtime.home", System.getenv("SDJ_RUNTIME_HOME"));
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("sdj").resolve("runtime").resolve(bindingsVersion()).toAbsolutePath();
    }

    /** The launcher inside {@link #home()}. */
    public static Path launcher() {
        return home().resolve("bin/java");
    }

    /** The ggml version recorded with the bindings, or "unknown". */
    static String bindingsVersion() {
        try (InputStream in = UserRuntime.class.getResourceAsStream("/" + GgmlExpectations.RESOURCE)) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(new InputStreamReader(in, StandardCharsets.UTF_8));
            String v = p.getProperty("ggml.version", "unknown").trim();
            return v.matches("[A-Za-z0-9._+-]+") ? v : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * Copies the bundled tooling into {@code home} (replacing older copies) and returns the command that provisions
     * its prefix: {@code bash <home>/provision.sh [--cuda] [--update-lock]}.
     */
    public static List<String> prepare(Path home, boolean cuda, boolean updateLock) {
        try {
            Files.createDirectories(home.resolve("bin"));
            for (String f : FILES) {
                try (InputStream in = UserRuntime.class.getResourceAsStream("/" + BUNDLE + f)) {
                    if (in == null) {
                        throw new RuntimeUnavailableException("this sdj jar does not bundle " + BUNDLE + f
                                + "; it was not built by the project's pom (mvn package)");
                    }
                    Path target = home.resolve(f);
                    Path tmp = Files.createTempFile(target.getParent(), ".install", ".tmp");
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    if (f.endsWith(".sh") || f.equals("bin/java")) {
                        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
                    }
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the runtime tooling to " + home, e);
        }
        List<String> cmd = new ArrayList<>(List.of("bash", home.resolve("provision.sh").toString()));
        if (cuda) {
            cmd.add("--cuda");
        }
        if (updateLock) {
            cmd.add("--update-lock");
        }
        return cmd;
    }
}
