package io.sdj.text;

import io.sdj.InvalidParameterException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses sd-webui's "original" attention syntax the way stable-diffusion.cpp does, weights in float arithmetic:
 * <ul>
 *   <li>{@code (text)} multiplies by 1.1f, {@code [text]} by {@code 1/1.1f}, {@code (text:1.3)} by the number;
 *       nested groups multiply;</li>
 *   <li>brackets still open at the end are closed there (round ones first, then square ones, each in the order
 *       they were opened); a {@code )} or {@code ]} with nothing to close is kept as text, and {@code :w)} with no open
 *       round bracket is dropped;</li>
 *   <li>{@code \(} gives a literal {@code (}. As in sd.cpp, {@code \)}, {@code \[}, {@code \]} and {@code \\} are
 *       recognised (they do not open or close groups) but keep their backslash in the text;</li>
 *   <li>{@code BREAK} (upper case, followed by a non-word character or the end) becomes a {@link PromptFragment.Break}
 *       unless it lies inside a group, where it stays the text "BREAK" with a weight;</li>
 *   <li>adjacent pieces with equal weight are joined; an empty prompt gives one empty text of weight 1.</li>
 * </ul>
 * Example: {@code a (((house:1.3)) [on] a (hill:0.5)} gives "a " 1.0, "house" 1.573, " " 1.1, "on" 1.0, " a " 1.1,
 * "hill" 0.55.
 */
public final class PromptParser {
    /** Multiplier of one pair of round brackets. */
    public static final float ROUND_MULTIPLIER = 1.1f;
    /** Multiplier of one pair of square brackets (float division, as sd.cpp computes it). */
    public static final float SQUARE_MULTIPLIER = 1 / 1.1f;

    private static final String BREAK = "BREAK";
    private static final float BREAK_MARK = -1.0f;

    private PromptParser() {
    }

    /** A piece while parsing; BREAK is kept as sd.cpp keeps it, the text "BREAK" with weight -1. */
    private static final class Piece {
        String text;
        float weight;

        Piece(String text, float weight) {
            this.text = text;
            this.weight = weight;
        }
    }

    /**
     * Splits {@code prompt} into weighted text and BREAKs.
     *
     * @throws InvalidParameterException if an explicit weight such as {@code (x:.)} is not a number (sd.cpp aborts)
     */
    public static List<PromptFragment> parse(String prompt) {
        List<Piece> res = new ArrayList<>();
        List<Integer> round = new ArrayList<>();
        List<Integer> square = new ArrayList<>();
        int n = prompt.length();
        int i = 0;
        while (i < n) {
            char c = prompt.charAt(i);
            switch (c) {
                case '\\' -> {
                    char next = i + 1 < n ? prompt.charAt(i + 1) : '\0';
                    if (next == '(') {
                        res.add(new Piece("(", 1.0f));
                        i += 2;
                    } else if (next == ')' || next == '[' || next == ']' || next == '\\') {
                        res.add(new Piece(prompt.substring(i, i + 2), 1.0f));
                        i += 2;
                    } else {
                        res.add(new Piece("\\", 1.0f));
                        i++;
                    }
                }
                case '(' -> {
                    round.add(res.size());
                    i++;
                }
                case '[' -> {
                    square.add(res.size());
                    i++;
                }
                case ':' -> {
                    int end = explicitWeightEnd(prompt, i);
                    if (end < 0) {
                        res.add(new Piece(":", 1.0f));
                        i++;
                    } else {
                        String number = prompt.substring(i + 1, end - 1);
                        if (!round.isEmpty()) {
                            multiply(res, round.removeLast(), weight(number, prompt, i));
                        }
                        i = end;
                    }
                }
                case ')' -> {
                    if (round.isEmpty()) {
                        res.add(new Piece(")", 1.0f));
                    } else {
                        multiply(res, round.removeLast(), ROUND_MULTIPLIER);
                    }
                    i++;
                }
                case ']' -> {
                    if (square.isEmpty()) {
                        res.add(new Piece("]", 1.0f));
                    } else {
                        multiply(res, square.removeLast(), SQUARE_MULTIPLIER);
                    }
                    i++;
                }
                case 'B' -> {
                    // Each piece starts a fresh search in sd.cpp, so a word boundary always precedes this 'B'.
                    int after = i + BREAK.length();
                    if (prompt.startsWith(BREAK, i) && (after == n || !isWordChar(prompt.charAt(after)))) {
                        res.add(new Piece(BREAK, BREAK_MARK));
                        i = after;
                    } else {
                        res.add(new Piece("B", 1.0f));
                        i++;
                    }
                }
                default -> {
                    int start = i;
                    while (i < n && !isSyntax(prompt.charAt(i))) {
                        i++;
                    }
                    res.add(new Piece(prompt.substring(start, i), 1.0f));
                }
            }
        }
        for (int pos : round) {
            multiply(res, pos, ROUND_MULTIPLIER);
        }
        for (int pos : square) {
            multiply(res, pos, SQUARE_MULTIPLIER);
        }
        if (res.isEmpty()) {
            res.add(new Piece("", 1.0f));
        }
        int k = 0;
        while (k + 1 < res.size()) {
            if (res.get(k).weight == res.get(k + 1).weight) {
                res.get(k).text += res.get(k + 1).text;
                res.remove(k + 1);
            } else {
                k++;
            }
        }
        List<PromptFragment> out = new ArrayList<>(res.size());
        for (Piece p : res) {
            out.add(p.text.equals(BREAK) && p.weight == BREAK_MARK
                    ? new PromptFragment.Break()
                    : new PromptFragment.Text(p.text, p.weight));
        }
        return List.copyOf(out);
    }

    /** End (exclusive, after ')') of {@code :[+-]?[.0-9]+)} starting at the colon at {@code colon}, or -1. */
    private static int explicitWeightEnd(String s, int colon) {
        int i = colon + 1;
        int n = s.length();
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        int digitsStart = i;
        while (i < n && (s.charAt(i) == '.' || (s.charAt(i) >= '0' && s.charAt(i) <= '9'))) {
            i++;
        }
        if (i == digitsStart || i >= n || s.charAt(i) != ')') {
            return -1;
        }
        return i + 1;
    }

    private static float weight(String number, String prompt, int at) {
        Float w = CFloat.parseLeading(number);
        if (w == null) {
            throw new InvalidParameterException("prompt", "attention weight ':" + number + ")' at character " + at
                    + " is not a number; expected e.g. (text:1.3)");
        }
        return w;
    }

    private static void multiply(List<Piece> res, int from, float multiplier) {
        for (int p = from; p < res.size(); p++) {
            res.get(p).weight *= multiplier;
        }
    }

    /** Characters that end a plain-text run: {@code \ ( ) [ ] :} and 'B' (which may start BREAK). */
    private static boolean isSyntax(char c) {
        return c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':' || c == 'B';
    }

    /** ECMAScript regex word character in the C locale. */
    private static boolean isWordChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
}
