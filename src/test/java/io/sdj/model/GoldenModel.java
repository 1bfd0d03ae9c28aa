package io.sdj.model;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test support for slow tests: the full-size golden SD 1.5 checkpoint, generated on first use into
 * {@code models/cache/} of the repository (git-ignored) and verified against the published SHA-256.
 */
public final class GoldenModel {
    private GoldenModel() {
    }

    /** The shared reference folder: system property {@code sdj.shared}, else {@code ../shared}. */
    public static Path sharedDir() {
        String p = System.getProperty("sdj.shared");
        Path dir = (p == null || p.isBlank() ? Path.of("../shared") : Path.of(p)).toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("shared folder not found at " + dir);
        }
        return dir;
    }

    /** The CLIP BPE merges file of SD 1.x in the shared folder (tests only; sdj does not ship it). */
    public static Path merges() {
        return sharedDir().resolve("clip").resolve("merges.txt");
    }

    /** The repository root: the nearest folder at or above the working directory that holds pom.xml. */
    public static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("pom.xml"))) {
                return d;
            }
        }
        return dir;
    }

    /** The verified golden checkpoint, generated (about 2.1 GB, seconds to a minute) when missing. */
    public static Path path() {
        return path(GoldenCheckpoint.SD15);
    }

    /** A verified golden checkpoint of any family, generated when missing (SDXL: 6.9 GB, about a minute). */
    public static Path path(GoldenCheckpoint.Spec spec) {
        return GoldenCheckpoint.ensure(spec, repoRoot().resolve("models").resolve("cache"), sharedDir());
    }
}
