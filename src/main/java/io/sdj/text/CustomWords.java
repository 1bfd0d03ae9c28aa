package io.sdj.text;

import java.util.List;

/**
 * Words that the tokenizer replaces by ids of its own, as sd.cpp does for textual-inversion embeddings: each name is
 * matched as a special token anywhere in the lower-cased prompt (like {@code <|endoftext|>}), and every word the
 * CLIP split produces is offered too. Ids at or above {@link ClipTokenizer#VOCAB_SIZE} address extra rows appended
 * to the token-embedding table.
 */
public interface CustomWords {

    /**
     * The lower-case names to split out of the text. Where two names start at the same place the earlier one in this
     * list wins (sd.cpp keeps them in the sorted order of the embedding file names).
     */
    List<String> names();

    /**
     * The ids that replace {@code word}, or {@code null} if the word is not a custom one. For a word listed in
     * {@link #names()} this must not return null.
     */
    int[] idsFor(String word);
}
