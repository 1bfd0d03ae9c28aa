package io.sdj.sampling;

/**
 * Progress of a sampling run after one completed step (for progress bars and previews). The arrays are copies the
 * listener may keep.
 *
 * @param step       1-based index of the step just completed
 * @param steps      total number of steps ({@code sigmas.length - 1})
 * @param sigma      noise level at the start of the step
 * @param latent     the latent after the step
 * @param denoised   the last denoised estimate the step computed
 * @param modelCalls model calls made so far in this run
 */
public record SamplingStep(int step, int steps, float sigma, float[] latent, float[] denoised, int modelCalls) {
}
