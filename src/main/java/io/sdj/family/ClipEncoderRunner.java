package io.sdj.family;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.Backend;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import io.sdj.text.ClipTextModel;
import io.sdj.text.TokenizedPrompt;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs one CLIP text encoder over 77-token windows: one graph computation per window, a compiled graph per
 * (clip skip, final norm, pooled) setting. Token ids are checked against the vocabulary before ggml sees them.
 */
final class ClipEncoderRunner implements AutoCloseable {
    private final ClipTextModel model;
    private final Backend backend;
    private final Map<String, Compiled> graphs = new HashMap<>();
    private int passes;

    private record Compiled(Graph graph, CompiledGraph compiled, Tensor ids, Tensor mask, Tensor poolIndex,
                            Tensor hidden, Tensor pooled) implements AutoCloseable {
        @Override
        public void close() {
            compiled.close();
            graph.close();
        }
    }

    /** One window's outputs: hidden states [hidden × 77] and the pooled embedding (or null). */
    record WindowOutput(float[] hidden, float[] pooled) {
    }

    ClipEncoderRunner(ClipTextModel model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    int hidden() {
        return model.config().hiddenSize();
    }

    int passes() {
        return passes;
    }

    /**
     * Encodes one window of 77 ids.
     *
     * @param poolIndex row for the pooled output (the first end-of-text token), or -1 for none
     */
    WindowOutput encodeWindow(int[] ids, int clipSkip, boolean finalNorm, int poolIndex) {
        int window = TokenizedPrompt.WINDOW;
        if (ids.length != window) {
            throw new InvalidParameterException("ids", "a window has " + window + " ids, got " + ids.length);
        }
        int vocab = model.config().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new InvalidParameterException("prompt", "token id " + id + " is outside the text encoder's "
                        + "vocabulary of " + vocab + " (the tokenizer does not fit this model)");
            }
        }
        if (model.config().maxPositions() != window) {
            throw new InvalidParameterException("prompt", "the text encoder has " + model.config().maxPositions()
                    + " positions; sdj encodes windows of " + window);
        }
        if (poolIndex >= window) {
            throw new InvalidParameterException("poolIndex", "must be below " + window + ", got " + poolIndex);
        }
        String key = clipSkip + "/" + finalNorm + "/" + (poolIndex >= 0);
        Compiled c = graphs.computeIfAbsent(key, k -> compile(clipSkip, finalNorm, poolIndex >= 0));
        c.ids().setInts(ids);
        c.mask().setFloats(ClipTextModel.causalMask(window));
        if (c.poolIndex() != null) {
            c.poolIndex().setInts(new int[]{poolIndex});
        }
        c.compiled().compute();
        passes++;
        return new WindowOutput(c.hidden().getFloats(), c.pooled() == null ? null : c.pooled().getFloats());
    }

    /** Hidden states [hidden, 77 × windows] (hidden fastest) for every window of the prompt, unweighted. */
    float[] encode(TokenizedPrompt prompt, int clipSkip, boolean finalNorm) {
        int window = TokenizedPrompt.WINDOW;
        int hidden = hidden();
        float[] result = new float[hidden * prompt.length()];
        for (int w = 0; w < prompt.windowCount(); w++) {
            float[] states = encodeWindow(prompt.windowIds(w), clipSkip, finalNorm, -1).hidden();
            System.arraycopy(states, 0, result, w * window * hidden, states.length);
        }
        return result;
    }

    /**
     * Multiplies each token's hidden state by its weight, then rescales everything so the mean is what it was
     * before (sd.cpp, per 77-token window). Nothing happens when all weights are 1.
     *
     * @param states  [width × tokens] of one window
     * @param weights one per token
     */
    static void applyTokenWeights(float[] states, float[] weights, int width) {
        boolean all1 = true;
        for (float w : weights) {
            all1 &= w == 1.0f;
        }
        if (all1) {
            return;
        }
        float before = mean(states);
        for (int t = 0; t < weights.length; t++) {
            for (int i = 0; i < width; i++) {
                states[t * width + i] *= weights[t];
            }
        }
        float after = mean(states);
        if (Float.isFinite(before) && Float.isFinite(after) && after != 0) {
            float ratio = before / after;
            for (int i = 0; i < states.length; i++) {
                states[i] *= ratio;
            }
        }
    }

    /** {@link #applyTokenWeights} window by window over a whole prompt's states. */
    static void applyTokenWeights(float[] states, TokenizedPrompt prompt, int width) {
        int window = TokenizedPrompt.WINDOW;
        for (int w = 0; w < prompt.windowCount(); w++) {
            float[] part = new float[width * window];
            System.arraycopy(states, w * window * width, part, 0, part.length);
            applyTokenWeights(part, prompt.windowWeights(w), width);
            System.arraycopy(part, 0, states, w * window * width, part.length);
        }
    }

    private static float mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return (float) (s / v.length);
    }

    private Compiled compile(int clipSkip, boolean finalNorm, boolean pooled) {
        int window = TokenizedPrompt.WINDOW;
        Graph g = new Graph("clip");
        try {
            Tensor ids = g.input("input_ids", GgmlType.I32, window);
            Tensor mask = g.input("causal_mask", GgmlType.F32, window, window);
            Tensor pool = pooled ? g.input("pool_index", GgmlType.I32, 1) : null;
            ClipTextModel.Outputs out = model.forward(g, ids, mask, clipSkip, finalNorm, pool);
            CompiledGraph compiled = pooled ? g.compile(backend, out.hidden(), out.pooled())
                    : g.compile(backend, out.hidden());
            return new Compiled(g, compiled, ids, mask, pool, out.hidden(), out.pooled());
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    @Override
    public void close() {
        graphs.values().forEach(Compiled::close);
        graphs.clear();
    }
}
