package io.sdj.vae;

import io.sdj.model.VaeConfig;
import io.sdj.nn.Attention;
import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

/**
 * The KL autoencoder as ggml graphs: the decoder (latent to image) and the encoder (image to latent moments).
 * Images are [W, H, 3, N] in [-1, 1]; latents [W/8, H/8, 4, N] unscaled (the caller applies the scale factor).
 */
public final class AutoencoderKL {
    private final VaeConfig config;
    private final Scope weights;
    private final Attention attention;
    private final boolean directConv;
    private final float convScale;

    /** @param weights the scope holding {@code encoder.*}, {@code decoder.*}, {@code quant_conv.*}, ... */
    public AutoencoderKL(VaeConfig config, Scope weights) {
        this(config, weights, Attention.REGULAR, false, 1.0f);
    }

    /** An autoencoder whose mid-block attention uses {@code attention} (flash attention bounds its memory). */
    public AutoencoderKL(VaeConfig config, Scope weights, Attention attention) {
        this(config, weights, attention, false, 1.0f);
    }

    /** A plain-scale autoencoder with the given attention and convolution algorithm. */
    public AutoencoderKL(VaeConfig config, Scope weights, Attention attention, boolean directConv) {
        this(config, weights, attention, directConv, 1.0f);
    }

    /**
     * @param directConv convolve with ggml_conv_2d_direct instead of im2col + matrix product (sd-cli's
     *                   {@code --vae-conv-direct}): no im2col buffer
     * @param convScale  every convolution runs as {@code conv(x · convScale) / convScale} ({@link Layers#conv2d(Graph,
     *                   Tensor, Scope, int, int, float)}; SDXL's VAE in sd.cpp); 1 for a plain VAE
     */
    public AutoencoderKL(VaeConfig config, Scope weights, Attention attention, boolean directConv, float convScale) {
        this.config = config;
        this.weights = weights;
        this.attention = attention;
        this.directConv = directConv;
        this.convScale = convScale;
    }

    private Tensor conv(Graph g, Tensor x, Scope s, int stride, int pad) {
        return directConv ? Layers.conv2dDirect(g, x, s, stride, pad, convScale)
                : Layers.conv2d(g, x, s, stride, pad, convScale);
    }

    public VaeConfig config() {
        return config;
    }

    /** Latent [w, h, z, N] (already divided by the scale factor) to image [8w, 8h, 3, N], roughly in [-1, 1]. */
    public Tensor decode(Graph g, Tensor z) {
        Tensor h = conv(g, z, weights.sub("post_quant_conv"), 1, 0);
        Scope d = weights.sub("decoder");
        h = conv(g, h, d.sub("conv_in"), 1, 1);
        h = resnetBlock(g, h, d.sub("mid.block_1"));
        h = attnBlock(g, h, d.sub("mid.attn_1"));
        h = resnetBlock(g, h, d.sub("mid.block_2"));
        for (int level = config.levels() - 1; level >= 0; level--) {
            Scope up = d.sub("up").sub(level);
            for (int j = 0; j <= config.numResBlocks(); j++) {
                h = resnetBlock(g, h, up.sub("block").sub(j));
            }
            if (level != 0) {
                h = conv(g, g.upscaleNearest(h, 2), up.sub("upsample.conv"), 1, 1);
            }
        }
        h = Layers.groupNorm32(g, h, d.sub("norm_out"));
        h = g.silu(h);
        return conv(g, h, d.sub("conv_out"), 1, 1);
    }

    /** Image [W, H, 3, N] in [-1, 1] to moments [W/8, H/8, 2z, N]: mean in channels 0..z-1, log-variance after. */
    public Tensor encode(Graph g, Tensor x) {
        Scope e = weights.sub("encoder");
        Tensor h = conv(g, x, e.sub("conv_in"), 1, 1);
        for (int level = 0; level < config.levels(); level++) {
            Scope down = e.sub("down").sub(level);
            for (int j = 0; j < config.numResBlocks(); j++) {
                h = resnetBlock(g, h, down.sub("block").sub(j));
            }
            if (level != config.levels() - 1) {
                h = g.pad(h, 1, 1, 0, 0); // one zero column on the right, one row at the bottom
                h = conv(g, h, down.sub("downsample.conv"), 2, 0);
            }
        }
        h = resnetBlock(g, h, e.sub("mid.block_1"));
        h = attnBlock(g, h, e.sub("mid.attn_1"));
        h = resnetBlock(g, h, e.sub("mid.block_2"));
        h = Layers.groupNorm32(g, h, e.sub("norm_out"));
        h = g.silu(h);
        h = conv(g, h, e.sub("conv_out"), 1, 1);
        return conv(g, h, weights.sub("quant_conv"), 1, 0);
    }

    /** ResnetBlock: norm, SiLU, conv, norm, SiLU, conv, plus the (1×1-projected) input. */
    Tensor resnetBlock(Graph g, Tensor x, Scope s) {
        Tensor h = Layers.groupNorm32(g, x, s.sub("norm1"));
        h = g.silu(h);
        h = conv(g, h, s.sub("conv1"), 1, 1);
        h = Layers.groupNorm32(g, h, s.sub("norm2"));
        h = g.silu(h);
        h = conv(g, h, s.sub("conv2"), 1, 1);
        Tensor skip = s.has("nin_shortcut.weight") ? conv(g, x, s.sub("nin_shortcut"), 1, 0) : x;
        return g.add(h, skip);
    }

    /** Single-head self-attention over all pixels, with 1×1 convolutions for q, k, v and the output. */
    Tensor attnBlock(Graph g, Tensor x, Scope s) {
        long w = x.ne(0);
        long hgt = x.ne(1);
        long c = x.ne(2);
        long n = x.ne(3);
        Tensor h = Layers.groupNorm32(g, x, s.sub("norm"));
        Tensor q = tokens(g, conv(g, h, s.sub("q"), 1, 0), c, w * hgt, n);
        Tensor k = tokens(g, conv(g, h, s.sub("k"), 1, 0), c, w * hgt, n);
        Tensor v = tokens(g, conv(g, h, s.sub("v"), 1, 0), c, w * hgt, n);
        h = attention.apply(g, q, k, v, 1, null);
        h = g.reshape(g.cont(g.permute(h, 1, 0, 2, 3)), w, hgt, c, n);
        h = conv(g, h, s.sub("proj_out"), 1, 0);
        return g.add(h, x);
    }

    private static Tensor tokens(Graph g, Tensor t, long c, long l, long n) {
        return g.reshape(g.cont(g.permute(t, 1, 2, 0, 3)), c, l, n);
    }
}
