package io.sdj.unet;

import io.sdj.model.UnetConfig;
import io.sdj.nn.Attention;
import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The SD U-Net (LDM "openaimodel") as a ggml graph: ResBlocks with a timestep embedding (plus, for SDXL, the
 * embedded size/pooled-text vector {@code y}), SpatialTransformers with self- and cross-attention (1×1-conv or linear
 * projections, per-level depth, fixed head count or fixed head width), down- and up-sampling and skip connections.
 * It predicts eps or v for a latent, whichever the model was trained for.
 */
public final class UNet {
    private final UnetConfig config;
    private final Scope weights;
    private final Attention attention;

    /** @param weights the scope holding {@code input_blocks.*}, {@code time_embed.*}, ... (model.diffusion_model.) */
    /** The attention variant this U-Net's graphs use. */
    public Attention attention() {
        return attention;
    }

    public UNet(UnetConfig config, Scope weights) {
        this(config, weights, Attention.REGULAR);
    }

    /** A U-Net whose transformer blocks compute attention with {@code attention} (e.g. flash attention). */
    public UNet(UnetConfig config, Scope weights, Attention attention) {
        this.config = config;
        this.weights = weights;
        this.attention = attention;
    }

    public UnetConfig config() {
        return config;
    }

    /**
     * Builds the forward pass.
     *
     * @param x         latent [W, H, C, N]
     * @param timesteps F32 [N], the (fractional) DDPM timestep for each batch item
     * @param context   text conditioning [contextDim, tokens, N]
     * @param y         the extra conditioning vector [admInChannels, N] (SDXL), or null when the U-Net has none
     * @return the prediction [W, H, C, N]
     */
    public Tensor forward(Graph g, Tensor x, Tensor timesteps, Tensor context, Tensor y) {
        if ((y != null) != (config.admInChannels() > 0)) {
            throw new io.sdj.InvalidParameterException("y", config.admInChannels() > 0
                    ? "this U-Net needs a " + config.admInChannels() + "-wide conditioning vector"
                    : "this U-Net takes no conditioning vector");
        }
        Tensor tEmb = g.timestepEmbedding(g.scale(timesteps, 1.0f), config.modelChannels(), 10000);
        Tensor emb = Layers.linear(g, tEmb, weights.sub("time_embed.0"));
        emb = g.silu(emb);
        emb = Layers.linear(g, emb, weights.sub("time_embed.2"));
        if (y != null) {
            Tensor label = Layers.linear(g, y, weights.sub("label_emb.0.0"));
            label = Layers.linear(g, g.silu(label), weights.sub("label_emb.0.2"));
            emb = g.add(emb, label);
        }

        Deque<Tensor> skips = new ArrayDeque<>();
        Scope in = weights.sub("input_blocks");
        Tensor h = Layers.conv2d(g, x, in.sub(0).sub(0), 1, 1);
        skips.push(h);
        int block = 1;
        for (int level = 0; level < config.levels(); level++) {
            for (int r = 0; r < config.numResBlocks(); r++) {
                Scope b = in.sub(block++);
                h = resBlock(g, h, emb, b.sub(0));
                if (config.hasAttention(level)) {
                    h = spatialTransformer(g, h, context, b.sub(1), config.transformerDepth().get(level));
                }
                skips.push(h);
            }
            if (level != config.levels() - 1) {
                h = downsample(g, h, in.sub(block++).sub(0));
                skips.push(h);
            }
        }

        Scope mid = weights.sub("middle_block");
        h = resBlock(g, h, emb, mid.sub(0));
        h = spatialTransformer(g, h, context, mid.sub(1), config.middleDepth());
        h = resBlock(g, h, emb, mid.sub(2));

        Scope out = weights.sub("output_blocks");
        int ob = 0;
        for (int level = config.levels() - 1; level >= 0; level--) {
            for (int r = 0; r <= config.numResBlocks(); r++) {
                Scope b = out.sub(ob++);
                h = g.concat(h, skips.pop(), 2);
                h = resBlock(g, h, emb, b.sub(0));
                int next = 1;
                if (config.hasAttention(level)) {
                    h = spatialTransformer(g, h, context, b.sub(next++), config.transformerDepth().get(level));
                }
                if (level > 0 && r == config.numResBlocks()) {
                    h = upsample(g, h, b.sub(next));
                }
            }
        }

        h = Layers.groupNorm32(g, h, weights.sub("out.0"));
        h = g.silu(h);
        return Layers.conv2d(g, h, weights.sub("out.2"), 1, 1);
    }

    /** ResBlock: norm, SiLU, conv; plus the projected time embedding; norm, SiLU, conv; plus the (projected) input. */
    Tensor resBlock(Graph g, Tensor x, Tensor emb, Scope s) {
        Tensor h = Layers.groupNorm32(g, x, s.sub("in_layers.0"));
        h = g.silu(h);
        h = Layers.conv2d(g, h, s.sub("in_layers.2"), 1, 1);

        Tensor e = Layers.linear(g, g.silu(emb), s.sub("emb_layers.1"));
        e = g.reshape(e, 1, 1, e.ne(0), e.ne(1));
        h = g.add(h, e);

        h = Layers.groupNorm32(g, h, s.sub("out_layers.0"));
        h = g.silu(h);
        h = Layers.conv2d(g, h, s.sub("out_layers.3"), 1, 1);

        Tensor skip = s.has("skip_connection.weight") ? Layers.conv2d(g, x, s.sub("skip_connection"), 1, 0) : x;
        return g.add(h, skip);
    }

    /**
     * SpatialTransformer: norm, projection to tokens (a 1×1 conv before flattening, or a linear layer after it),
     * {@code depth} transformer blocks, projection back, residual.
     */
    Tensor spatialTransformer(Graph g, Tensor x, Tensor context, Scope s, int depth) {
        long w = x.ne(0);
        long hgt = x.ne(1);
        long c = x.ne(2);
        long n = x.ne(3);
        int heads = config.heads(c);
        Tensor h = Layers.groupNorm32(g, x, s.sub("norm"));
        if (!config.linearProjection()) {
            h = Layers.conv2d(g, h, s.sub("proj_in"), 1, 0);
        }
        h = g.reshape(g.cont(g.permute(h, 1, 2, 0, 3)), c, w * hgt, n);
        if (config.linearProjection()) {
            h = Layers.linear(g, h, s.sub("proj_in"));
        }
        for (int d = 0; d < depth; d++) {
            h = transformerBlock(g, h, context, s.sub("transformer_blocks").sub(d), heads);
        }
        if (config.linearProjection()) {
            h = Layers.linear(g, h, s.sub("proj_out"));
        }
        h = g.reshape(g.cont(g.permute(h, 1, 0, 2, 3)), w, hgt, c, n);
        if (!config.linearProjection()) {
            h = Layers.conv2d(g, h, s.sub("proj_out"), 1, 0);
        }
        return g.add(h, x);
    }

    /** BasicTransformerBlock: self-attention, cross-attention, GEGLU feed-forward, each pre-normed and residual. */
    Tensor transformerBlock(Graph g, Tensor x, Tensor context, Scope s, int heads) {
        Tensor n1 = Layers.layerNorm(g, x, s.sub("norm1"), Layers.LAYER_NORM_EPS);
        x = g.add(crossAttention(g, n1, n1, s.sub("attn1"), heads), x);
        Tensor n2 = Layers.layerNorm(g, x, s.sub("norm2"), Layers.LAYER_NORM_EPS);
        x = g.add(crossAttention(g, n2, context, s.sub("attn2"), heads), x);
        Tensor n3 = Layers.layerNorm(g, x, s.sub("norm3"), Layers.LAYER_NORM_EPS);
        return g.add(feedForward(g, n3, s.sub("ff")), x);
    }

    Tensor crossAttention(Graph g, Tensor x, Tensor context, Scope s, int heads) {
        Tensor q = Layers.linear(g, x, s.sub("to_q"));
        Tensor k = Layers.linear(g, context, s.sub("to_k"));
        Tensor v = Layers.linear(g, context, s.sub("to_v"));
        Tensor a = attention.apply(g, q, k, v, heads, null);
        return Layers.linear(g, a, s.sub("to_out.0"));
    }

    /** GEGLU feed-forward: the projection's first half times GELU of its second half, then a linear layer. */
    Tensor feedForward(Graph g, Tensor x, Scope s) {
        Tensor p = Layers.linear(g, x, s.sub("net.0.proj"));
        long inner = p.ne(0) / 2;
        Tensor value = g.view(p, inner, p.ne(1), p.ne(2), 1, p.nb(1), p.nb(2), p.nb(3), 0);
        Tensor gate = g.view(p, inner, p.ne(1), p.ne(2), 1, p.nb(1), p.nb(2), p.nb(3), inner * p.nb(0));
        gate = g.gelu(g.cont(gate));
        return Layers.linear(g, g.mul(value, gate), s.sub("net.2"));
    }

    Tensor downsample(Graph g, Tensor x, Scope s) {
        return Layers.conv2d(g, x, s.sub("op"), 2, 1);
    }

    Tensor upsample(Graph g, Tensor x, Scope s) {
        return Layers.conv2d(g, g.upscaleNearest(x, 2), s.sub("conv"), 1, 1);
    }
}
