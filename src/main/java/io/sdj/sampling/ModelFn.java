package io.sdj.sampling;

/**
 * The denoiser a sampler drives: given the noisy latent {@code x} at noise level {@code sigma}, return the estimate
 * of the clean latent {@code D(x, sigma)} (for SD: U-Net + classifier-free guidance + {@link Scalings}, see
 * {@link Denoiser}).
 *
 * <p>Implementations must not modify {@code x} and must return an array of the same length (a new one, or any
 * array the sampler may keep).
 */
@FunctionalInterface
public interface ModelFn {
    /** The denoised estimate of {@code x} at {@code sigma}. */
    float[] denoise(float[] x, float sigma);
}
