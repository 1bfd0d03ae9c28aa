package io.sdj.pipeline;

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
 * Runs the CLIP text encoder over a tokenized prompt: one graph computation per 77-token window, token weights
 * applied with the mean restored (as sd.cpp does), windows concatenated along the token axis.
 */
final class TextEncoder implements AutoCloseable {
    private final ClipTextModel model;
    private final Backend backend;
    private final Map<Integer, Compiled> graphs = new HashMap<>();

    private record Compiled(Graph graph, CompiledGraph compiled, Tensor ids, Tensor mask, Tensor out)
            implements AutoCloseable {
        @Override
        public void close() {
            compiled.close();
            graph.close();
        }
    }

    TextEncoder(ClipTextModel model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    int hidden() {
        return model.config().hiddenSize();
    }

    /** Hidden states [hidden, 77 × windows] (hidden fastest) for the prompt. */
    float[] encode(TokenizedPrompt prompt, int clipSkip) {
        int window = TokenizedPrompt.WINDOW;
        int hidden = hidden();
        Compiled c = graphs.computeIfAbsent(clipSkip, this::compile);
        float[] result = new float[hidden * prompt.length()];
        float[] mask = ClipTextModel.causalMask(window);
        for (int w = 0; w < prompt.windowCount(); w++) {
            c.ids().setInts(prompt.windowIds(w));
            c.mask().setFloats(mask);
            c.compiled().compute();
            float[] states = c.out().getFloats();
            float[] weights = new float[window];
            System.arraycopy(prompt.weights(), w * window, weights, 0, window);
            applyTokenWeights(states, weights, hidden);
            System.arraycopy(states, 0, result, w * window * hidden, states.length);
        }
        return result;
    }

    /**
     * Multiplies each token's hidden state by its weight, then rescales everything so the mean is what it was
     * before. Nothing happens when all weights are 1.
     */
    static void applyTokenWeights(float[] states, float[] weights, int hidden) {
        boolean all1 = true;
        for (float w : weights) {
            all1 &= w == 1.0f;
        }
        if (all1) {
            return;
        }
        float before = mean(states);
        for (int t = 0; t < weights.length; t++) {
            for (int i = 0; i < hidden; i++) {
                states[t * hidden + i] *= weights[t];
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

    private static float mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return (float) (s / v.length);
    }

    private Compiled compile(int clipSkip) {
        int window = TokenizedPrompt.WINDOW;
        Graph g = new Graph("clip");
        try {
            Tensor ids = g.input("input_ids", GgmlType.I32, window);
            Tensor mask = g.input("causal_mask", GgmlType.F32, window, window);
            Tensor out = model.forward(g, ids, mask, clipSkip);
            return new Compiled(g, g.compile(backend, out), ids, mask, out);
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
