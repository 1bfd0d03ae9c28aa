package io.sdj.text;

import io.sdj.model.GoldenModel;

import java.nio.file.Path;

/** Locates ../shared (system property sdj.shared, else ../shared) and loads the CLIP tokenizer once per JVM. */
final class SharedFiles {
    private static ClipTokenizer tokenizer;

    private SharedFiles() {
    }

    static Path shared() {
        return GoldenModel.sharedDir();
    }

    static Path merges() {
        return GoldenModel.merges();
    }

    static synchronized ClipTokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = ClipTokenizer.fromMerges(merges());
        }
        return tokenizer;
    }
}
