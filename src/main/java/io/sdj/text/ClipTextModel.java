package io.sdj.text;

import io.sdj.InvalidParameterException;
import io.sdj.model.ClipTextConfig;
import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

/**
 * The CLIP text transformer as a ggml graph: token + position embeddings, pre-norm transformer layers with causal
 * self-attention, a final layer norm. Encodes one window of {@code maxPositions()} tokens.
 */
public final class ClipTextModel {
    private final ClipTextConfig config;
    private final Scope weights;

    /** @param weights the scope holding {@code embeddings.*}, {@code encoder.layers.*}, {@code final_layer_norm.*} */
    public ClipTextModel(ClipTextConfig config, Scope weights) {
        this.config = config;
        this.weights = weights;
    }

    public ClipTextConfig config() {
        return config;
    }

    /**
     * Builds the encoder.
     *
     * @param ids      I32 [maxPositions] token ids
     * @param mask     F32 [maxPositions, maxPositions] causal mask (0 on and below the diagonal, -inf above), see
     *                 {@link #causalMask(int)}
     * @param clipSkip 1 = the last layer's output, 2 = the one before it, ... (then the final layer norm)
     * @return hidden states [hidden, maxPositions, 1]
     */
    public Tensor forward(Graph g, Tensor ids, Tensor mask, int clipSkip) {
        if (clipSkip < 1 || clipSkip > config.numLayers()) {
            throw new InvalidParameterException("clip_skip", "must be between 1 and " + config.numLayers() + ", got " + clipSkip);
        }
        Scope emb = weights.sub("embeddings");
        Tensor x = g.getRows(emb.get("token_embedding.weight"), ids);
        x = g.add(x, emb.get("position_embedding.weight"));
        int last = config.numLayers() - clipSkip;
        Scope layers = weights.sub("encoder.layers");
        for (int i = 0; i <= last; i++) {
            x = layer(g, x, mask, layers.sub(i));
        }
        return Layers.layerNorm(g, x, weights.sub("final_layer_norm"), Layers.LAYER_NORM_EPS);
    }

    /** One pre-norm layer: x + attention(LN(x)), then x + MLP(LN(x)). */
    Tensor layer(Graph g, Tensor x, Tensor mask, Scope s) {
        Tensor h = Layers.layerNorm(g, x, s.sub("layer_norm1"), Layers.LAYER_NORM_EPS);
        Scope a = s.sub("self_attn");
        Tensor q = Layers.linear(g, h, a.sub("q_proj"));
        Tensor k = Layers.linear(g, h, a.sub("k_proj"));
        Tensor v = Layers.linear(g, h, a.sub("v_proj"));
        h = Layers.attention(g, q, k, v, config.numHeads(), mask);
        x = g.add(x, Layers.linear(g, h, a.sub("out_proj")));

        h = Layers.layerNorm(g, x, s.sub("layer_norm2"), Layers.LAYER_NORM_EPS);
        h = Layers.linear(g, h, s.sub("mlp.fc1"));
        h = config.hiddenSize() == 768 ? g.geluQuick(h) : g.gelu(h); // OpenAI CLIP-L: quick GELU
        h = Layers.linear(g, h, s.sub("mlp.fc2"));
        return g.add(x, h);
    }

    /** The causal mask values: row i (query) may see columns j ≤ i. Layout [key j fastest, query i]. */
    public static float[] causalMask(int n) {
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[i * n + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return m;
    }
}
