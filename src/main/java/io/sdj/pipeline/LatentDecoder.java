package io.sdj.pipeline;

import java.awt.image.BufferedImage;

/** Turns a diffusion latent (as the sampler holds it, before any VAE scale factor) into a picture. */
@FunctionalInterface
public interface LatentDecoder {
    /** Latent [w, h, c] (w fastest) → RGB image of the decoder's size. */
    BufferedImage decode(float[] latent, int w, int h);
}
