package io.sdj.text;

import java.util.Arrays;

/**
 * Token ids and per-token weights of one prompt, laid out as the CLIP text encoder consumes them: one or more windows
 * of {@value #WINDOW} tokens, each {@code BOS, up to 75 tokens, EOS, padding}. Weights of BOS, EOS and padding are
 * 1.0. Arrays are copied on the way in and out.
 */
public record TokenizedPrompt(int[] ids, float[] weights) {
    /** Tokens per text-encoder window, BOS and EOS included. */
    public static final int WINDOW = 77;

    public TokenizedPrompt {
        if (ids.length != weights.length) {
            throw new IllegalArgumentException("ids (" + ids.length + ") and weights (" + weights.length
                    + ") differ in length");
        }
        if (ids.length == 0 || ids.length % WINDOW != 0) {
            throw new IllegalArgumentException("length " + ids.length + " is not a positive multiple of " + WINDOW);
        }
        ids = ids.clone();
        weights = weights.clone();
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public float[] weights() {
        return weights.clone();
    }

    /** Total number of ids (a multiple of 77). */
    public int length() {
        return ids.length;
    }

    /** Number of 77-token windows. */
    public int windowCount() {
        return ids.length / WINDOW;
    }

    /** The ids of window {@code w} (0-based). */
    public int[] windowIds(int w) {
        return Arrays.copyOfRange(ids, checkWindow(w) * WINDOW, (w + 1) * WINDOW);
    }

    /** The weights of window {@code w} (0-based). */
    public float[] windowWeights(int w) {
        return Arrays.copyOfRange(weights, checkWindow(w) * WINDOW, (w + 1) * WINDOW);
    }

    /** True when every weight is exactly 1.0, so the encoder output needs no re-weighting. */
    public boolean isUnweighted() {
        for (float w : weights) {
            if (w != 1.0f) {
                return false;
            }
        }
        return true;
    }

    private int checkWindow(int w) {
        if (w < 0 || w >= windowCount()) {
            throw new IndexOutOfBoundsException("window " + w + " of " + windowCount());
        }
        return w;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedPrompt t && Arrays.equals(ids, t.ids) && Arrays.equals(weights, t.weights);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[" + windowCount() + " window(s), ids=" + Arrays.toString(ids) + ", weights="
                + Arrays.toString(weights) + "]";
    }
}
