package io.sdj.model;

import io.sdj.InvalidParameterException;

import java.util.List;

/**
 * Hyper-parameters of the SD KL auto-encoder (LDM "AutoencoderKL" layout).
 *
 * @param imageChannels image channels in and out ({@code encoder.conv_in.weight} dim 1; 3)
 * @param ch            base width ({@code encoder.conv_in.weight} dim 0; 128)
 * @param chMult        width multiplier per level ((1, 2, 4, 4))
 * @param numResBlocks  ResnetBlocks per encoder level (2; decoder levels have one more)
 * @param zChannels     latent channels ({@code decoder.conv_in.weight} dim 1; 4); the encoder emits 2 × z (mean, log-var)
 * @param embedDim      quantisation embedding width ({@code post_quant_conv.weight} dim 1; 4)
 */
public record VaeConfig(int imageChannels, int ch, List<Integer> chMult, int numResBlocks, int zChannels,
                        int embedDim) {

    /** The SD 1.x VAE. */
    public static final VaeConfig SD1 = new VaeConfig(3, 128, List.of(1, 2, 4, 4), 2, 4, 4);

    public VaeConfig {
        chMult = List.copyOf(chMult);
        UnetConfig.positive("vae.image_channels", imageChannels);
        UnetConfig.positive("vae.ch", ch);
        UnetConfig.positive("vae.num_res_blocks", numResBlocks);
        UnetConfig.positive("vae.z_channels", zChannels);
        UnetConfig.positive("vae.embed_dim", embedDim);
        if (chMult.isEmpty()) {
            throw new InvalidParameterException("vae.ch_mult", "needs at least one level");
        }
        if (chMult.size() > UnetConfig.MAX_LEVELS) {
            throw new InvalidParameterException("vae.ch_mult", "has " + chMult.size() + " levels; at most "
                    + UnetConfig.MAX_LEVELS + " are accepted");
        }
        for (int m : chMult) {
            UnetConfig.positive("vae.ch_mult", m);
            UnetConfig.atMost("vae.ch_mult", ch * (long) m, UnetConfig.MAX_WIDTH);
        }
        UnetConfig.atMost("vae.num_res_blocks", numResBlocks, UnetConfig.MAX_DEPTH);
        UnetConfig.atMost("vae.z_channels", zChannels, UnetConfig.MAX_WIDTH);
        UnetConfig.atMost("vae.embed_dim", embedDim, UnetConfig.MAX_WIDTH);
        UnetConfig.atMost("vae.image_channels", imageChannels, UnetConfig.MAX_WIDTH);
        for (int level = 0; level < chMult.size(); level++) {
            if (ch * chMult.get(level) % GROUPS != 0) {
                throw new InvalidParameterException("vae.ch_mult", "level " + level + " is " + ch * chMult.get(level)
                        + " channels wide, not a multiple of the " + GROUPS + " GroupNorm groups");
            }
        }
    }

    /** GroupNorm groups of every VAE norm layer. */
    public static final int GROUPS = 32;

    /** How much smaller the latent is than the image (2^(levels - 1)). */
    public int downscale() {
        return 1 << (levels() - 1);
    }

    /** A one-line summary for logs and messages. */
    public String describe() {
        return "ch " + ch + ", mult " + chMult + ", res blocks " + numResBlocks + ", z " + zChannels + ", embed "
                + embedDim;
    }

    /** Number of resolution levels. */
    public int levels() {
        return chMult.size();
    }

    /** Width of level {@code level}. */
    public int channels(int level) {
        return ch * chMult.get(level);
    }
}
