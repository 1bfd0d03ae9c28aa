package io.sdj.cli;

import io.sdj.SdjException;
import io.sdj.model.StandInModel;
import io.sdj.text.TokenizerFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes sdj's self-contained stand-in model for {@code make run}: a small SD 1.x checkpoint
 * ({@link StandInModel}) and, in {@code tokenizer/} beside it, a tokenizer of CLIP's construction with a handful of
 * merges, sized to the checkpoint's token embedding. Nothing is downloaded and nothing outside the project is read.
 * The weights are random, so the images are textures: the point is to run every stage of the pipeline.
 *
 * <p>Usage: {@code StandIn FOLDER} writes {@code FOLDER/}{@value #MODEL_FILE} and {@code FOLDER/tokenizer/}.
 */
public final class StandIn {
    /** The checkpoint's file name. */
    public static final String MODEL_FILE = "sd15-stand-in.safetensors";
    /** What to tell whoever looks at the stand-in's images. */
    public static final String NOTICE = "the stand-in model's weights are random, not trained: its images are "
            + "textures, not pictures of the prompt. For real images give a Stable Diffusion 1.x checkpoint: "
            + "bin/sdj -m model.safetensors -p \"a lovely cat\"";

    /**
     * The stand-in tokenizer's merges: enough for "a lovely cat", "a dog" and "the cat" to become one id per word;
     * any other text falls back to byte symbols, which the vocabulary always has.
     */
    static final List<String> MERGES = List.of(
            "c a", "ca t</w>", "d o", "do g</w>", "l o", "lo v", "e l", "el y</w>", "lov ely</w>", "t h", "th e</w>",
            "a n", "an d</w>", "o f</w>", "i n", "in g</w>");

    private StandIn() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: StandIn FOLDER   (writes FOLDER/" + MODEL_FILE + " and FOLDER/tokenizer/)");
            System.exit(Main.EXIT_USAGE);
        }
        try {
            write(Path.of(args[0]), System.out);
        } catch (SdjException | UncheckedIOException e) {
            System.err.println("StandIn: error: " + e.getMessage());
            System.exit(Main.EXIT_FAILURE);
        }
    }

    /**
     * Writes the tokenizer and the checkpoint into {@code folder} and says on {@code out} what they are.
     *
     * @return the checkpoint
     */
    public static Path write(Path folder, PrintStream out) {
        TokenizerFiles tokenizer = TokenizerFiles.write(folder.resolve("tokenizer"), MERGES);
        int vocabSize = 512 + MERGES.size() + 2;
        Path model = StandInModel.write(folder.resolve(MODEL_FILE), StandInModel.config(vocabSize),
                StandInModel.DEFAULT_SEED);
        long bytes;
        try {
            bytes = Files.size(model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.printf(Locale.ROOT, "wrote the stand-in SD 1.x model %s (%.1f MB) and its %d-token tokenizer %s%n",
                model, bytes / 1e6, vocabSize, tokenizer.path());
        out.println("note: " + NOTICE);
        out.flush();
        return model;
    }
}
