package io.sdj.bench;

import io.sdj.SdjException;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds {@code native/bin/java}, the launcher every JVM that touches ggml must start through (it puts the ggml
 * runtime on the library path and enables native access).
 */
public final class Launcher {
    /** System property naming the launcher explicitly. */
    public static final String PROPERTY = "sdj.java.launcher";
    private static final Path RELATIVE = Path.of("native", "bin", "java");

    private Launcher() {
    }

    /**
     * The launcher: {@code explicit} when given; else the {@value #PROPERTY} property; else {@code native/bin/java}
     * under the working directory or under a folder above this class's jar.
     *
     * @throws SdjException when none is found or the one named is not executable
     */
    public static Path find(Path explicit) {
        if (explicit != null) {
            return requireExecutable(explicit, "--java");
        }
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return requireExecutable(Path.of(prop), "-D" + PROPERTY);
        }
        Path cwd = Path.of("").toAbsolutePath().resolve(RELATIVE);
        if (Files.isExecutable(cwd)) {
            return cwd;
        }
        Path here = codeLocation();
        for (Path dir = here; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(RELATIVE);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new SdjException("no native/bin/java launcher found under " + Path.of("").toAbsolutePath() + " or above "
                + here + "; run from the sdj checkout's root or pass --java PATH");
    }

    private static Path requireExecutable(Path p, String source) {
        if (!Files.isExecutable(p)) {
            throw new SdjException(source + ": launcher " + p + " is not an executable file");
        }
        return p.toAbsolutePath();
    }

    private static Path codeLocation() {
        try {
            return Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of("").toAbsolutePath();
        }
    }
}
