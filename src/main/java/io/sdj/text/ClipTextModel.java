package io.sdj.text;

import io.sdj.InvalidParameterException;
import io.sdj.model.ClipTextConfig;
import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

/**
 * A CLIP text transformer as a ggml graph, in OpenAI (Hugging Face) or OpenCLIP naming: token + position
 * embeddings, pre-norm transformer layers with causal self-attention, a final layer norm, and (OpenCLIP bigG) the
 * pooled, projected embedding of the end-of-text token. Encodes one window of {@code maxPositions()} tokens.
 */
public final class ClipTextModel {
    private final ClipTextConfig config;
    private final Scope weights;
    private final boolean openClip;

    /** @param weights the scope holding the encoder's tensors (the component prefix) */
    public ClipTextModel(ClipTextConfig config, Scope weights) {
        this.config = config;
        this.weights = weights;
        this.openClip = config.flavor() == ClipTextConfig.Flavor.OPEN_CLIP;
    }

    public ClipTextConfig config() {
        return config;
    }

    /** Hidden states and, when asked for, the pooled embedding of one window. */
    public record Outputs(Tensor hidden, Tensor pooled) {
    }

    /**
     * Builds the encoder.
     *
     * @param ids       I32 [maxPositions] token ids (each below the vocabulary size: the caller checks)
     * @param mask      F32 [maxPositions, maxPositions] causal mask, see {@link #causalMask(int)}
     * @param clipSkip  1 = the last layer's output, 2 = the one before it, ...
     * @param finalNorm apply the final layer norm to the hidden states (SD 1.x, SD 2.x; not SDXL)
     * @param poolIndex I32 [1] row of the end-of-text token for the pooled output, or null for none; the pooled
     *                  output runs every layer, the final norm and {@code text_projection}, whatever clipSkip is
     * @return hidden [hidden, maxPositions, 1] and pooled [projection, 1] (or null)
     */
    public Outputs forward(Graph g, Tensor ids, Tensor mask, int clipSkip, boolean finalNorm, Tensor poolIndex) {
        if (clipSkip < 1 || clipSkip > config.numLayers()) {
            throw new InvalidParameterException("clip_skip", "must be between 1 and " + config.numLayers() + ", got " + clipSkip);
        }
        Tensor x = embed(g, ids);
        int last = config.numLayers() - clipSkip;
        for (int i = 0; i <= last; i++) {
            x = layer(g, x, mask, i);
        }
        Tensor hidden = finalNorm ? finalNorm(g, x) : x;
        Tensor pooled = null;
        if (poolIndex != null) {
            Tensor y = x;
            for (int i = last + 1; i < config.numLayers(); i++) {
                y = layer(g, y, mask, i);
            }
            Tensor row = g.getRows(finalNorm(g, y), poolIndex);
            pooled = openClip ? Layers.linear(g, row, weights.get("text_projection"), null) : row;
        }
        return new Outputs(hidden, pooled);
    }

    /** {@link #forward} for the hidden states alone, with the final layer norm. */
    public Tensor forward(Graph g, Tensor ids, Tensor mask, int clipSkip) {
        return forward(g, ids, mask, clipSkip, true, null).hidden();
    }

    private Tensor embed(Graph g, Tensor ids) {
        if (openClip) {
            return g.add(g.getRows(weights.get("token_embedding.weight"), ids), weights.get("positional_embedding"));
        }
        Scope emb = weights.sub("embeddings");
        return g.add(g.getRows(emb.get("token_embedding.weight"), ids), emb.get("position_embedding.weight"));
    }

    private Tensor finalNorm(Graph g, Tensor x) {
        return Layers.layerNorm(g, x, weights.sub(openClip ? "ln_final" : "final_layer_norm"), Layers.LAYER_NORM_EPS);
    }

    /** One pre-norm layer: x + attention(LN(x)), then x + MLP(LN(x)). */
    Tensor layer(Graph g, Tensor x, Tensor mask, int index) {
        return openClip ? openClipLayer(g, x, mask, weights.sub("transformer.resblocks").sub(index))
                : openAiLayer(g, x, mask, weights.sub("encoder.layers").sub(index));
    }

    private Tensor openAiLayer(Graph g, Tensor x, Tensor mask, Scope s) {
        Tensor h = Layers.layerNorm(g, x, s.sub("layer_norm1"), Layers.LAYER_NORM_EPS);
        Scope a = s.sub("self_attn");
        Tensor q = Layers.linear(g, h, a.sub("q_proj"));
        Tensor k = Layers.linear(g, h, a.sub("k_proj"));
        Tensor v = Layers.linear(g, h, a.sub("v_proj"));
        h = Layers.attention(g, q, k, v, config.numHeads(), mask);
        x = g.add(x, Layers.linear(g, h, a.sub("out_proj")));

        h = Layers.layerNorm(g, x, s.sub("layer_norm2"), Layers.LAYER_NORM_EPS);
        return g.add(x, mlp(g, h, s.sub("mlp.fc1"), s.sub("mlp.fc2")));
    }

    /** OpenCLIP's resblock: the same computation with a fused q/k/v projection (rows q, then k, then v). */
    private Tensor openClipLayer(Graph g, Tensor x, Tensor mask, Scope s) {
        Tensor h = Layers.layerNorm(g, x, s.sub("ln_1"), Layers.LAYER_NORM_EPS);
        Scope a = s.sub("attn");
        Tensor w = a.get("in_proj_weight");
        Tensor b = a.get("in_proj_bias");
        long hidden = config.hiddenSize();
        Tensor q = Layers.withLowRank(g, h, Layers.linear(g, h, rows(g, w, 0, hidden), rows(g, b, 0, hidden)), a,
                "in_proj_weight#0");
        Tensor k = Layers.withLowRank(g, h, Layers.linear(g, h, rows(g, w, 1, hidden), rows(g, b, 1, hidden)), a,
                "in_proj_weight#1");
        Tensor v = Layers.withLowRank(g, h, Layers.linear(g, h, rows(g, w, 2, hidden), rows(g, b, 2, hidden)), a,
                "in_proj_weight#2");
        h = Layers.attention(g, q, k, v, config.numHeads(), mask);
        x = g.add(x, Layers.linear(g, h, a.sub("out_proj")));

        h = Layers.layerNorm(g, x, s.sub("ln_2"), Layers.LAYER_NORM_EPS);
        return g.add(x, mlp(g, h, s.sub("mlp.c_fc"), s.sub("mlp.c_proj")));
    }

    /** Third {@code part} of a fused projection: rows [part·n, (part+1)·n) of a weight, or that slice of a bias. */
    private static Tensor rows(Graph g, Tensor t, int part, long n) {
        if (t.ne(1) > 1) {
            return g.view(t, t.ne(0), n, 1, 1, t.nb(1), t.nb(1) * n, t.nb(1) * n, part * n * t.nb(1));
        }
        return g.view(t, n, 1, 1, 1, t.nb(0) * n, t.nb(0) * n, t.nb(0) * n, part * n * t.nb(0));
    }

    private Tensor mlp(Graph g, Tensor h, Scope fc1, Scope fc2) {
        h = Layers.linear(g, h, fc1);
        h = config.usesGelu() ? g.gelu(h) : g.geluQuick(h);
        return Layers.linear(g, h, fc2);
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
