package io.sdj.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test support: the cases of {@code ../shared/golden/cases.tsv}, each with sd-cli's argument words. */
public final class GoldenCases {
    private GoldenCases() {
    }

    /**
     * One golden case.
     *
     * @param file the golden PNG's file name
     * @param args sd-cli's arguments, with {@code MODEL} standing for the model path
     */
    public record Case(String file, List<String> args) {
        public Case {
            args = List.copyOf(args);
        }

        @Override
        public String toString() {
            return file;
        }
    }

    /** Every case of ../shared/golden in file order. */
    public static List<Case> all() {
        return all("golden");
    }

    /** Every case of a golden folder ({@code golden}, {@code golden-sd2}, {@code golden-sdxl}, ...) in file order. */
    public static List<Case> all(String folder) {
        Path tsv = GoldenModel.sharedDir().resolve(folder).resolve("cases.tsv");
        try {
            List<String> lines = Files.readAllLines(tsv);
            List<Case> cases = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] cols = line.split("\t");
                cases.add(new Case(cols[0], shellWords(cols[1])));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(tsv + ": " + e.getMessage(), e);
        }
    }

    /** Splits a command line the way a POSIX shell does for single-quoted words (all that cases.tsv uses). */
    static List<String> shellWords(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        boolean quoted = false;
        for (char ch : s.toCharArray()) {
            if (ch == '\'') {
                quoted = !quoted;
                inWord = true;
            } else if (Character.isWhitespace(ch) && !quoted) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(ch);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }
}
