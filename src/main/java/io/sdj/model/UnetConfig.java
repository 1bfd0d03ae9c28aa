package io.sdj.model;

import io.sdj.InvalidParameterException;

import java.util.List;

/**
 * Hyper-parameters of an SD 1.x U-Net (LDM "openaimodel" layout), as far as they show in the weights.
 *
 * @param inChannels        latent channels in ({@code input_blocks.0.0.weight} dim 1; 4 for SD1)
 * @param outChannels       latent channels out ({@code out.2.weight} dim 0; 4)
 * @param modelChannels     base width ({@code input_blocks.0.0.weight} dim 0; 320)
 * @param channelMult       width multiplier per resolution level ((1, 2, 4, 4))
 * @param numResBlocks      ResBlocks per level on the way down (2; the way up has one more)
 * @param attentionLevels   per level, whether its blocks carry a SpatialTransformer ((true, true, true, false))
 * @param transformerDepth  BasicTransformerBlocks per SpatialTransformer (1)
 * @param contextDim        cross-attention context width ({@code attn2.to_k.weight} dim 1; 768)
 * @param numHeads          attention heads, not visible in the weights; SD1 uses 8
 */
public record UnetConfig(int inChannels, int outChannels, int modelChannels, List<Integer> channelMult,
                         int numResBlocks, List<Boolean> attentionLevels, int transformerDepth, int contextDim,
                         int numHeads) {

    /** SD1's fixed head count. */
    public static final int SD1_NUM_HEADS = 8;

    /** The SD 1.x U-Net. */
    public static final UnetConfig SD1 = new UnetConfig(4, 4, 320, List.of(1, 2, 4, 4), 2,
            List.of(true, true, true, false), 1, 768, SD1_NUM_HEADS);

    public UnetConfig {
        channelMult = List.copyOf(channelMult);
        attentionLevels = List.copyOf(attentionLevels);
        positive("unet.in_channels", inChannels);
        positive("unet.out_channels", outChannels);
        positive("unet.model_channels", modelChannels);
        positive("unet.num_res_blocks", numResBlocks);
        positive("unet.transformer_depth", transformerDepth);
        positive("unet.context_dim", contextDim);
        positive("unet.num_heads", numHeads);
        if (channelMult.isEmpty()) {
            throw new InvalidParameterException("unet.channel_mult", "needs at least one level");
        }
        for (int m : channelMult) {
            positive("unet.channel_mult", m);
        }
        if (attentionLevels.size() != channelMult.size()) {
            throw new InvalidParameterException("unet.attention_levels", "has " + attentionLevels.size()
                    + " entries but channel_mult has " + channelMult.size() + " levels");
        }
    }

    static void positive(String name, int v) {
        if (v <= 0) {
            throw new InvalidParameterException(name, "must be positive, got " + v);
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

    /** Width of the timestep embedding (4 × model channels). */
    public int timeEmbedDim() {
        return 4 * modelChannels;
    }

    /** The same configuration with another head count. */
    public UnetConfig withNumHeads(int heads) {
        return new UnetConfig(inChannels, outChannels, modelChannels, channelMult, numResBlocks, attentionLevels,
                transformerDepth, contextDim, heads);
    }
}
