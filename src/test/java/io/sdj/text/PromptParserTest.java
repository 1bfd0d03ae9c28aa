package io.sdj.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sdj.InvalidParameterException;
import io.sdj.text.PromptFragment.Break;
import io.sdj.text.PromptFragment.Text;
import java.util.List;
import org.junit.jupiter.api.Test;

class PromptParserTest {
    private static final float R = 1.1f;
    private static final float S = 1 / 1.1f;

    private static Text t(String text, float weight) {
        return new Text(text, weight);
    }

    @Test
    void plainText() {
        assertEquals(List.of(t("normal text", 1f)), PromptParser.parse("normal text"));
        assertEquals(List.of(t("", 1f)), PromptParser.parse(""));
    }

    @Test
    void roundSquareAndExplicitWeights() {
        assertEquals(List.of(t("an ", 1f), t("important", R), t(" word", 1f)),
                PromptParser.parse("an (important) word"));
        assertEquals(List.of(t("x", S)), PromptParser.parse("[x]"));
        assertEquals(List.of(t("x", S * S)), PromptParser.parse("[[x]]"));
        assertEquals(List.of(t("x", 1.5f)), PromptParser.parse("(x:1.5)"));
        assertEquals(List.of(t("x", -0.5f)), PromptParser.parse("(x:-0.5)"));
        assertEquals(List.of(t("x", 1.2f)), PromptParser.parse("(x:1.2.3)")); // strtof reads "1.2"
        assertEquals(List.of(t("unnecessaryparens", R)), PromptParser.parse("(unnecessary)(parens)"));
    }

    @Test
    void referenceExampleInFloatArithmetic() {
        List<PromptFragment> got = PromptParser.parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).");
        float sky = 1f * R * R * R * R;
        assertEquals(List.of(t("a ", 1f), t("house", 1.3f * R * R), t(" ", R), t("on", S * R), t(" a ", R),
                t("hill", 0.5f * R), t(", sun, ", R), t("sky", sky), t(".", R)), got);
        assertEquals(1.573f, ((Text) got.get(1)).weight(), 1e-6f);
        assertEquals(1.0f, ((Text) got.get(3)).weight()); // (1/1.1f)*1.1f is exactly 1 in float
        assertEquals(0.55f, ((Text) got.get(5)).weight(), 1e-6f);
        assertEquals(1.4641f, sky, 1e-6f);
    }

    @Test
    void unbalancedBracketsCloseAtTheEnd() {
        assertEquals(List.of(t("unbalanced", R)), PromptParser.parse("(unbalanced"));
        assertEquals(List.of(t("a ", R), t("b", R * S)), PromptParser.parse("(a [b"));
        // closers with nothing open stay as text
        assertEquals(List.of(t("a) b] c", 1f)), PromptParser.parse("a) b] c"));
        // an explicit weight with no open bracket is dropped
        assertEquals(List.of(t("a b", 1f)), PromptParser.parse("a:1.3) b"));
        // a colon that is not a weight is text
        assertEquals(List.of(t("x:", R)), PromptParser.parse("(x:)"));
        assertEquals(List.of(t("ratio 16:9", 1f)), PromptParser.parse("ratio 16:9"));
    }

    @Test
    void escapes() {
        // sd.cpp strips the backslash only from \( ; the other escapes keep it but do not act as brackets
        assertEquals(List.of(t("(literal\\]", 1f)), PromptParser.parse("\\(literal\\]"));
        assertEquals(List.of(t("\\[x\\)", 1f)), PromptParser.parse("\\[x\\)"));
        assertEquals(List.of(t("\\\\", 1f), t("x", R)), PromptParser.parse("\\\\(x)"));
        assertEquals(List.of(t("a\\b", 1f)), PromptParser.parse("a\\b"));
        assertEquals(List.of(t("end\\", 1f)), PromptParser.parse("end\\"));
    }

    @Test
    void breakKeyword() {
        assertEquals(List.of(t("a ", 1f), new Break(), t(" b", 1f)), PromptParser.parse("a BREAK b"));
        assertEquals(List.of(new Break()), PromptParser.parse("BREAK"));
        assertEquals(List.of(t("a,", 1f), new Break(), t(",b", 1f)), PromptParser.parse("a,BREAK,b"));
        // a preceding letter does not stop it (each piece starts a fresh regex search in sd.cpp)
        assertEquals(List.of(t("a", 1f), new Break(), t(" b", 1f)), PromptParser.parse("aBREAK b"));
        // a following word character does
        assertEquals(List.of(t("BREAKfast BREAK_1 break Bob", 1f)),
                PromptParser.parse("BREAKfast BREAK_1 break Bob"));
        // inside brackets it is the weighted text "BREAK"
        assertEquals(List.of(t("a ", R), t("BREAK", -1f * R), t(" b", R)), PromptParser.parse("(a BREAK b)"));
    }

    @Test
    void nonAsciiPassesThrough() {
        assertEquals(List.of(t("caf\u00E9 ", 1f), t("\u65E5\u672C", R)), PromptParser.parse("caf\u00E9 (\u65E5\u672C)"));
    }

    @Test
    void unreadableWeightIsATypedError() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> PromptParser.parse("(x:.)"));
        assertEquals("prompt", e.parameter());
        assertTrue(e.getMessage().contains(":.)"), e.getMessage());
        // without an open bracket sd.cpp never parses the number
        assertEquals(List.of(t("x", 1f)), PromptParser.parse("x:.)"));
    }
}
