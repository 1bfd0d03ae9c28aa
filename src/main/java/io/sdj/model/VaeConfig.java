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
        for (int m : chMult) {
            UnetConfig.positive("vae.ch_mult", m);
        }
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
