package io.sdj.text;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared (system property sdj.shared, else ../shared) and loads the CLIP tokenizer once per JVM. */
final class SharedFiles {
    private static ClipTokenizer tokenizer;

    private SharedFiles() {
    }

    static Path shared() {
        String prop = System.getProperty("sdj.shared");
        Path dir = prop != null ? Path.of(prop) : Path.of("../shared");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("shared folder not found at " + dir.toAbsolutePath());
        }
        return dir;
    }

    static Path merges() {
        return shared().resolve("clip").resolve("merges.txt");
    }

    static synchronized ClipTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ClipTokenizer.fromMerges(merges());
        }
        return tokenizer;
    }
}
