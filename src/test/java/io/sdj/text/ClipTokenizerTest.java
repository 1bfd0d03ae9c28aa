package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sdj.InvalidParameterException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClipTokenizerTest {
    private static final int BOS = ClipTokenizer.BOS_ID;
    private static final int EOS = ClipTokenizer.EOS_ID;
    private static final int A = 320; // "a</w>"

    private final ClipTokenizer tok = SharedFiles.tokenizer();

    @Test
    void vocabularyLayout() {
        assertEquals(49408, tok.vocabSize());
        assertEquals("!", tok.tokenString(0));
        assertEquals("!</w>", tok.tokenString(256));
        assertEquals("i" + "n", tok.tokenString(512)); // first merge "i n"
        assertEquals("<|startoftext|>", tok.tokenString(BOS));
        assertEquals("<|endoftext|>", tok.tokenString(EOS));
        assertEquals("<custom:49410>", tok.tokenString(49410));
        assertThrows(InvalidParameterException.class, () -> tok.tokenString(-1));
    }

    @Test
    void lowerCasesAndCleansWhiteSpace() {
        int[] expected = {A, 2165, 2368};
        assertArrayEquals(expected, tok.encode("a lovely cat"));
        assertArrayEquals(expected, tok.encode("  A\tLOVELY \n\r\f\u000B Cat  "));
        assertEquals("a lovely cat", ClipTokenizer.normalize("  A\tLOVELY \n\n Cat "));
        // only ASCII letters are lower-cased and only ASCII white space is cleaned (no ftfy, no Unicode folding)
        assertEquals("\u00C9t\u00C9 a\u00A0b", ClipTokenizer.normalize("\u00C9T\u00C9  A\u00A0B"));
        assertNotEquals(Arrays.toString(tok.encode("\u00C9")), Arrays.toString(tok.encode("\u00E9")));
        assertArrayEquals(new int[0], tok.encode(" \t\n "));
        assertArrayEquals(new int[0], tok.encode(""));
    }

    @Test
    void splitsLikeClipRegex() {
        assertEquals(List.of("it</w>", "'s</w>"), tok.tokenStrings(tok.encode("it's")));
        assertEquals(List.of("don</w>", "'t</w>"), tok.tokenStrings(tok.encode("DON'T")));
        assertEquals(List.of("we</w>", "'re</w>"), tok.tokenStrings(tok.encode("we're")));
        // digits are single words
        assertEquals(List.of("2</w>", "0</w>", "2</w>", "4</w>"), tok.tokenStrings(tok.encode("2024")));
        // letters and punctuation split; a punctuation run is one word
        int[] ids = tok.encode("cat,dog");
        assertEquals(List.of("cat</w>", ",</w>", "dog</w>"), tok.tokenStrings(ids));
        assertEquals(String.join("", tok.tokenStrings(tok.encode("?!"))), "?!</w>");
    }

    @Test
    void literalSpecialTokensMapToTheirIds() {
        int[] ids = tok.encode("a <|endoftext|>cat<|startoftext|>");
        assertArrayEquals(new int[] {A, EOS, 2368, BOS}, ids);
        // matched after lower-casing, as sd.cpp normalizes first
        assertArrayEquals(new int[] {EOS}, tok.encode("<|EndOfText|>"));
    }

    @Test
    void nonAsciiTextIsByteLevel() {
        String text = "caf\u00E9 \u65E5\u672C\u8A9E \uD83D\uDC31 \u00DCn\u00EFcode \u0000 \u200B";
        int[] ids = tok.encode(text);
        assertTrue(ids.length > 5);
        assertTrue(Arrays.stream(ids).allMatch(id -> id >= 0 && id < BOS), Arrays.toString(ids));
        String decoded = tok.decode(ids);
        assertEquals(ClipTokenizer.normalize(text).replace(" ", ""), decoded.replace(" ", ""));
        // lone surrogates do not crash either
        assertTrue(tok.encode("\uD800x").length > 0);
    }

    @Test
    void decodeRoundTripsAsciiText() {
        String text = "a photograph of an astronaut, riding a horse";
        assertEquals(text, tok.decode(tok.tokenizeWeighted(text).ids()));
        assertThrows(InvalidParameterException.class, () -> tok.decode(new int[] {49408}));
    }

    @Test
    void emptyPromptIsOneWindowOfBosEosPadding() {
        TokenizedPrompt tp = tok.tokenizeWeighted("");
        assertEquals(77, tp.length());
        assertEquals(BOS, tp.ids()[0]);
        assertTrue(Arrays.stream(tp.ids()).skip(1).allMatch(id -> id == EOS));
        TokenizedPrompt sd2 = tok.tokenizeWeighted("", ClipTokenizer.SD2_PAD_ID);
        assertArrayEquals(concat(new int[] {BOS, EOS}, filled(75, 0)), sd2.ids());
    }

    @Test
    void seventyFiveTokensFitOneWindow() {
        TokenizedPrompt tp = tok.tokenizeWeighted("a ".repeat(75));
        assertEquals(77, tp.length());
        assertArrayEquals(concat(new int[] {BOS}, filled(75, A), new int[] {EOS}), tp.ids());
    }

    @Test
    void seventySixTokensNeedTwoWindows() {
        TokenizedPrompt tp = tok.tokenizeWeighted("a ".repeat(76), ClipTokenizer.SD2_PAD_ID);
        int[] expected = concat(new int[] {BOS}, filled(75, A), new int[] {EOS, BOS, A, EOS}, filled(74, 0));
        assertArrayEquals(expected, tp.ids());
        assertEquals(2, tp.windowCount());
    }

    @Test
    void longPromptIsCutIntoWindowsOf75WithoutRegardForWords() {
        // "photograph" is one token, "astronaut" one: 100 tokens in all
        String prompt = String.join(" ", java.util.Collections.nCopies(50, "photograph astronaut"));
        int[] bpe = tok.encode(prompt);
        assertEquals(100, bpe.length);
        TokenizedPrompt tp = tok.tokenizeWeighted(prompt);
        int[] ids = tp.ids();
        assertEquals(154, ids.length);
        assertEquals(BOS, ids[0]);
        assertEquals(EOS, ids[76]);
        assertEquals(BOS, ids[77]);
        assertArrayEquals(Arrays.copyOfRange(bpe, 0, 75), Arrays.copyOfRange(ids, 1, 76));
        assertArrayEquals(Arrays.copyOfRange(bpe, 75, 100), Arrays.copyOfRange(ids, 78, 103));
        assertEquals(EOS, ids[103]);
        assertTrue(IntStream.range(104, 154).allMatch(i -> ids[i] == EOS));
        assertArrayEquals(Arrays.copyOfRange(ids, 77, 154), tp.windowIds(1));
    }

    @Test
    void breakPadsToTheNextWindowWithEndOfText() {
        TokenizedPrompt tp = tok.tokenizeWeighted("a cat BREAK a dog", ClipTokenizer.SD2_PAD_ID);
        int dog = tok.encode("dog")[0];
        int[] expected = concat(new int[] {BOS, A, 2368}, filled(73, EOS), new int[] {EOS},
                new int[] {BOS, A, dog, EOS}, filled(73, 0));
        assertArrayEquals(expected, tp.ids());
        assertTrue(tp.isUnweighted());
        // BREAK at a window boundary (here: the start) adds nothing
        assertArrayEquals(tok.tokenizeWeighted("a cat").ids(), tok.tokenizeWeighted("BREAK a cat").ids());
        // BREAK at the end fills the window with EOS and does not open another one
        assertArrayEquals(concat(new int[] {BOS, A, 2368}, filled(74, EOS)),
                tok.tokenizeWeighted("a cat BREAK", ClipTokenizer.SD2_PAD_ID).ids());
        // lower-case "break" is just a word
        assertEquals(77, tok.tokenizeWeighted("a cat break a dog").length());
    }

    @Test
    void weightsFollowAttentionSyntax() {
        TokenizedPrompt tp = tok.tokenizeWeighted("a (((house:1.3)) [on] a (hill:0.5)");
        int[] ids = tp.ids();
        float[] w = tp.weights();
        int house = tok.encode("house")[0];
        int on = tok.encode("on")[0];
        int hill = tok.encode("hill")[0];
        assertArrayEquals(new int[] {BOS, A, house, on, A, hill, EOS, EOS}, Arrays.copyOf(ids, 8));
        float r = 1.1f;
        assertEquals(1.0f, w[0]);
        assertEquals(1.0f, w[1]);
        assertEquals(1.3f * r * r, w[2]);
        assertEquals(1.573f, w[2], 1e-6f);
        assertEquals(1.0f, w[3]);
        assertEquals(r, w[4]);
        assertEquals(0.5f * r, w[5]);
        assertEquals(0.55f, w[5], 1e-6f);
        for (int i = 6; i < 77; i++) {
            assertEquals(1.0f, w[i], "weight of EOS/padding at " + i);
        }
        assertTrue(!tp.isUnweighted());
    }

    @Test
    void breakInsideBracketsIsTokenizedAsAWeightedWord() {
        TokenizedPrompt tp = tok.tokenizeWeighted("(a BREAK b)");
        assertEquals(77, tp.length());
        assertEquals(List.of("a</w>", "break</w>", "b</w>"), tok.tokenStrings(Arrays.copyOfRange(tp.ids(), 1, 4)));
        assertEquals(-1.0f * 1.1f, tp.weights()[2]);
    }

    @Test
    void escapedBracketsKeepSdCppQuirks() {
        // \( becomes "(", the other escapes keep their backslash (sd.cpp only strips it from \( )
        assertEquals(List.of("(</w>", "x</w>"), tok.tokenStrings(tok.encode("(x")));
        int[] ids = tok.tokenizeWeighted("\\(x\\)").ids();
        assertEquals("( x \\)", tok.decode(ids));
        assertArrayEquals(tok.encode("(x\\)"), Arrays.copyOfRange(ids, 1, 1 + tok.encode("(x\\)").length));
        assertTrue(tok.tokenizeWeighted("\\(x\\)").isUnweighted());
    }

    @Test
    void badPadIdIsRejected() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> tok.tokenizeWeighted("a", 49408));
        assertEquals("padId", e.parameter());
    }

    @Test
    void customWordsReplaceTheirNames() {
        CustomWords words = new CustomWords() {
            @Override
            public List<String> names() {
                return List.of("myemb");
            }

            @Override
            public int[] idsFor(String word) {
                return word.equals("myemb") ? new int[] {49408, 49409} : null;
            }
        };
        assertArrayEquals(new int[] {A, 49408, 49409, 2368}, tok.encode("a MyEmb cat", words));
        int[] inside = tok.encode("xmyemby", words);
        assertEquals(49408, inside[1]);
        TokenizedPrompt tp = tok.tokenizeWeighted("(myemb:1.2) cat", ClipTokenizer.SD1_PAD_ID, words);
        assertArrayEquals(new int[] {BOS, 49408, 49409, 2368, EOS}, Arrays.copyOf(tp.ids(), 5));
        assertEquals(1.2f, tp.weights()[1]);
        assertEquals(1.2f, tp.weights()[2]);

        CustomWords broken = new CustomWords() {
            @Override
            public List<String> names() {
                return List.of("ghost");
            }

            @Override
            public int[] idsFor(String word) {
                return null;
            }
        };
        assertThrows(InvalidParameterException.class, () -> tok.encode("a ghost", broken));
    }

    @Test
    void concurrentEncodingAgreesWithSequential() {
        List<String> prompts = IntStream.range(0, 400)
                .mapToObj(i -> "prompt number " + i + " with (weights:1." + (i % 9) + ") and words" + (i * 7919))
                .toList();
        List<TokenizedPrompt> sequential = prompts.stream().map(tok::tokenizeWeighted).toList();
        ClipTokenizer fresh = ClipTokenizer.fromMerges(SharedFiles.merges());
        List<TokenizedPrompt> parallel = prompts.parallelStream().map(fresh::tokenizeWeighted).toList();
        assertEquals(sequential, parallel);
    }

    private static int[] filled(int n, int v) {
        int[] a = new int[n];
        Arrays.fill(a, v);
        return a;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }
}
