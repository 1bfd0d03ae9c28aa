package io.sdj.cli;

import io.sdj.model.GoldenModel;

import io.sdj.model.TinySd15Writer;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Test support: runs {@link Main#run} in-process with captured stdout/stderr, and writes the tiny SD1-shaped model
 * (VAE with four levels, so it scales by 8 like the real one) plus the path of the shared CLIP merges file.
 *
 * @param status the exit status
 * @param out    what went to stdout
 * @param err    what went to stderr
 */
record CliRun(int status, String out, String err) {

    static CliRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = Main.run(args, o, e);
        }
        return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** stderr's lines. */
    String[] errLines() {
        return err.isEmpty() ? new String[0] : err.split("\\R");
    }

    /** Writes the tiny model as {@code dir/tiny-sd15.safetensors}. */
    static Path tinyModel(Path dir) {
        return TinySd15Writer.builder().vaeChMult(1, 1, 1, 1).write(dir.resolve("tiny-sd15.safetensors"));
    }

    static Path shared() {
        return GoldenModel.sharedDir();
    }

    static Path merges() {
        return GoldenModel.merges();
    }
}
