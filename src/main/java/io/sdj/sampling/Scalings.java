package io.sdj.sampling;

/**
 * The k-diffusion preconditioning for one sigma: the U-Net sees {@code x * cIn} and the denoised estimate is
 * {@code out * cOut + x * cSkip}.
 *
 * @param cSkip weight of the noisy input in the denoised estimate
 * @param cOut  weight of the network output in the denoised estimate
 * @param cIn   input scale
 */
public record Scalings(float cSkip, float cOut, float cIn) {
}
