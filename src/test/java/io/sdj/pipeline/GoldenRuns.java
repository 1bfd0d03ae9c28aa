package io.sdj.pipeline;

import io.sdj.image.ImageCompare;
import io.sdj.model.GoldenModel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test support for golden suites run through the CLI: substitutes the model placeholders, moves file arguments
 * into a work folder, runs {@link io.sdj.cli.Main#run} in-process on the CPU, and compares PNGs.
 */
final class GoldenRuns {
    private GoldenRuns() {
    }

    /**
     * Runs sd-cli's argument words with {@code placeholders} replaced (MODEL → path, ...), every -o, -i and
     * --preview-path value moved into {@code work}, plus {@code extra}; fails the test on a non-zero exit.
     */
    static void run(List<String> words, Map<String, Path> placeholders, Path work, List<String> extra) {
        List<String> args = new ArrayList<>();
        for (String a : words) {
            Path p = placeholders.get(a);
            args.add(p != null ? p.toString() : a);
        }
        for (int i = 0; i < args.size() - 1; i++) {
            if (List.of("-o", "-i", "--preview-path").contains(args.get(i))) {
                args.set(i + 1, work.resolve(args.get(i + 1)).toString());
            }
        }
        args.addAll(List.of("--backend", "cpu", "--tokenizer", GoldenModel.merges().toString()));
        args.addAll(extra);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = io.sdj.cli.Main.run(args.toArray(String[]::new), ps, ps);
        assertEquals(0, code, "sdj failed:\n" + out.toString(StandardCharsets.UTF_8));
    }

    /** Copies the file of every -i value among sd-cli's argument words from {@code golden} into {@code work}. */
    static void copyInputs(Path golden, List<String> words, Path work) throws IOException {
        for (int i = 0; i < words.size() - 1; i++) {
            if (words.get(i).equals("-i")) {
                Files.copy(golden.resolve(words.get(i + 1)), work.resolve(words.get(i + 1)));
            }
        }
    }

    /** Compares and prints; returns null when within the bound, else a description that names the bound. */
    static String check(Path golden, Path made, ParityBound bound) {
        ImageCompare.Difference d = ImageCompare.compare(golden, made);
        System.out.printf("%s: mean %.4f/255, max %d/255%s%n", golden.getFileName(), d.meanAbs(), d.maxAbs(),
                bound == ParityBound.SAME_SIMD ? "" : " (" + bound + ")");
        return bound.holds(d.meanAbs(), d.maxAbs()) ? null : golden.getFileName() + ": " + d + " (" + bound + ")";
    }
}
