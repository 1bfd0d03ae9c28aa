package io.sdj.model;

import io.sdj.InvalidParameterException;

import java.util.List;

/**
 * Hyper-parameters of an LDM "openaimodel" U-Net (SD 1.x, SD 2.x, SDXL), as far as they show in the weights.
 *
 * @param inChannels         latent channels in ({@code input_blocks.0.0.weight} dim 1; 4)
 * @param outChannels        latent channels out ({@code out.2.weight} dim 0; 4)
 * @param modelChannels      base width ({@code input_blocks.0.0.weight} dim 0; 320)
 * @param channelMult        width multiplier per resolution level (SD1/SD2 (1, 2, 4, 4); SDXL (1, 2, 4))
 * @param numResBlocks       ResBlocks per level on the way down (2; the way up has one more)
 * @param transformerDepth   per level, BasicTransformerBlocks in each SpatialTransformer; 0 = no attention at that
 *                           level (SD1/SD2 (1, 1, 1, 0); SDXL (0, 2, 10))
 * @param middleDepth        transformer blocks of the middle block's SpatialTransformer (1; SDXL 10)
 * @param contextDim         cross-attention context width ({@code attn2.to_k.weight} dim 1; 768 / 1024 / 2048)
 * @param numHeads           a fixed head count for every level (SD1: 8), or 0 when {@code headDim} fixes it
 * @param headDim            a fixed head width (SD2, SDXL: 64), or 0 when {@code numHeads} fixes the count
 * @param linearProjection   SpatialTransformer {@code proj_in}/{@code proj_out} are Linear layers (SD2, SDXL) instead
 *                           of 1×1 convolutions (SD1)
 * @param admInChannels      width of the extra conditioning vector {@code y} fed through {@code label_emb} (SDXL: 2816),
 *                           or 0 when the U-Net has none
 */
public record UnetConfig(int inChannels, int outChannels, int modelChannels, List<Integer> channelMult,
                         int numResBlocks, List<Integer> transformerDepth, int middleDepth, int contextDim,
                         int numHeads, int headDim, boolean linearProjection, int admInChannels) {

    /** SD1's fixed head count. */
    public static final int SD1_NUM_HEADS = 8;

    /** The head width of SD 2.x and SDXL. */
    public static final int HEAD_DIM_64 = 64;

    /** The SD 1.x U-Net. */
    public static final UnetConfig SD1 = new UnetConfig(4, 4, 320, List.of(1, 2, 4, 4), 2, List.of(1, 1, 1, 0), 1,
            768, SD1_NUM_HEADS, 0, false, 0);

    /** The SD 2.x U-Net (512-base and 768-v share it). */
    public static final UnetConfig SD2 = new UnetConfig(4, 4, 320, List.of(1, 2, 4, 4), 2, List.of(1, 1, 1, 0), 1,
            1024, 0, HEAD_DIM_64, true, 0);

    /** The SDXL base U-Net. */
    public static final UnetConfig SDXL = new UnetConfig(4, 4, 320, List.of(1, 2, 4), 2, List.of(0, 2, 10), 10,
            2048, 0, HEAD_DIM_64, true, 2816);

    /** Most levels, blocks and widths sdj accepts from a file; beyond these a file is refused, not run. */
    public static final int MAX_LEVELS = 8;
    public static final int MAX_DEPTH = 64;
    public static final int MAX_WIDTH = 1 << 16;

    public UnetConfig {
        channelMult = List.copyOf(channelMult);
        transformerDepth = List.copyOf(transformerDepth);
        positive("unet.in_channels", inChannels);
        positive("unet.out_channels", outChannels);
        positive("unet.model_channels", modelChannels);
        positive("unet.num_res_blocks", numResBlocks);
        positive("unet.context_dim", contextDim);
        atMost("unet.in_channels", inChannels, MAX_WIDTH);
        atMost("unet.out_channels", outChannels, MAX_WIDTH);
        atMost("unet.model_channels", modelChannels, MAX_WIDTH);
        atMost("unet.num_res_blocks", numResBlocks, MAX_DEPTH);
        atMost("unet.context_dim", contextDim, MAX_WIDTH);
        atMost("unet.adm_in_channels", admInChannels, MAX_WIDTH);
        if (channelMult.isEmpty() || channelMult.size() > MAX_LEVELS) {
            throw new InvalidParameterException("unet.channel_mult", "needs 1 to " + MAX_LEVELS + " levels, got "
                    + channelMult.size());
        }
        for (int m : channelMult) {
            positive("unet.channel_mult", m);
            atMost("unet.channel_mult", modelChannels * (long) m, MAX_WIDTH);
            if (modelChannels * m % VaeConfig.GROUPS != 0) {
                throw new InvalidParameterException("unet.channel_mult", "a level is " + modelChannels * m
                        + " channels wide, not a multiple of the " + VaeConfig.GROUPS + " GroupNorm groups");
            }
        }
        if (transformerDepth.size() != channelMult.size()) {
            throw new InvalidParameterException("unet.transformer_depth", "has " + transformerDepth.size()
                    + " entries but channel_mult has " + channelMult.size() + " levels");
        }
        for (int d : transformerDepth) {
            if (d < 0 || d > MAX_DEPTH) {
                throw new InvalidParameterException("unet.transformer_depth", "must be 0 to " + MAX_DEPTH + ", got " + d);
            }
        }
        positive("unet.middle_depth", middleDepth);
        atMost("unet.middle_depth", middleDepth, MAX_DEPTH);
        if ((numHeads > 0) == (headDim > 0)) {
            throw new InvalidParameterException("unet.num_heads", "exactly one of num_heads (" + numHeads
                    + ") and head_dim (" + headDim + ") must be positive");
        }
        if (admInChannels < 0) {
            throw new InvalidParameterException("unet.adm_in_channels", "must not be negative, got " + admInChannels);
        }
        for (int level = 0; level < channelMult.size(); level++) {
            if (transformerDepth.get(level) > 0) {
                checkHeads(modelChannels * channelMult.get(level), numHeads, headDim);
            }
        }
        checkHeads(modelChannels * channelMult.getLast(), numHeads, headDim);
    }

    private static void checkHeads(int channels, int numHeads, int headDim) {
        int divisor = numHeads > 0 ? numHeads : headDim;
        if (channels % divisor != 0) {
            throw new InvalidParameterException(numHeads > 0 ? "unet.num_heads" : "unet.head_dim", channels
                    + " attention channels are not divisible by " + divisor);
        }
    }

    static void positive(String name, long v) {
        if (v <= 0) {
            throw new InvalidParameterException(name, "must be positive, got " + v);
        }
    }

    static void atMost(String name, long v, long max) {
        if (v > max) {
            throw new InvalidParameterException(name, "is " + v + "; at most " + max + " is accepted");
        }
    }

    /** Number of resolution levels. */
    public int levels() {
        return channelMult.size();
    }

    /** Width of level {@code level}. */
    public int channels(int level) {
        return modelChannels * channelMult.get(level);
    }

    /** True when the blocks of {@code level} carry a SpatialTransformer. */
    public boolean hasAttention(int level) {
        return transformerDepth.get(level) > 0;
    }

    /** Attention heads of a SpatialTransformer {@code channels} wide. */
    public int heads(long channels) {
        return numHeads > 0 ? numHeads : (int) (channels / headDim);
    }

    /** Width of the timestep embedding (4 × model channels). */
    public int timeEmbedDim() {
        return 4 * modelChannels;
    }

    /** How much smaller the deepest level is than the latent (2^(levels - 1)). */
    public int downscale() {
        return 1 << (levels() - 1);
    }

    /** The same configuration with another fixed head count (sdj's small test models). */
    public UnetConfig withNumHeads(int heads) {
        return new UnetConfig(inChannels, outChannels, modelChannels, channelMult, numResBlocks, transformerDepth,
                middleDepth, contextDim, heads, 0, linearProjection, admInChannels);
    }

    /** A one-line summary for logs and messages. */
    public String describe() {
        return "channels " + modelChannels + ", mult " + channelMult + ", res blocks " + numResBlocks
                + ", transformer depth " + transformerDepth + " (middle " + middleDepth + "), context " + contextDim
                + (numHeads > 0 ? ", heads " + numHeads : ", head dim " + headDim)
                + (linearProjection ? ", linear proj" : "") + (admInChannels > 0 ? ", adm " + admInChannels : "")
                + ", in/out " + inChannels + "/" + outChannels;
    }
}
