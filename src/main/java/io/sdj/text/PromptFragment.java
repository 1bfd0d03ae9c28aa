package io.sdj.text;

/**
 * One piece of a parsed prompt: a run of text with its attention weight, or a {@code BREAK} that starts a new
 * 75-token chunk.
 */
public sealed interface PromptFragment {

    /**
     * Text whose tokens all get {@code weight} (1.0 = unweighted). The text is as written in the prompt, minus the
     * attention syntax; the tokenizer cleans white space and case later.
     */
    record Text(String text, float weight) implements PromptFragment {
        public Text {
            java.util.Objects.requireNonNull(text, "text");
        }
    }

    /** The {@code BREAK} keyword: pad the tokens so far with end-of-text tokens to the next multiple of 75. */
    record Break() implements PromptFragment {
    }
}
