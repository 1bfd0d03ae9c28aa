/**
 * Sampling as stable-diffusion.cpp (97d2990) does it, in pure Java over float arrays: the random generators
 * ({@link io.sdj.sampling.Rng}), the CompVis sigma table and timestep mapping ({@link io.sdj.sampling.SigmaTable}),
 * sigma schedules ({@link io.sdj.sampling.Scheduler}, {@link io.sdj.sampling.Img2ImgSchedule}), the model-side
 * scalings ({@link io.sdj.sampling.Denoiser}) and the samplers ({@link io.sdj.sampling.Sampler}).
 *
 * <p>sd.cpp's flow for one image, which these classes reproduce:
 * <ol>
 *   <li>seed the image generator with {@code seed + batchIndex} (sd.cpp's sampler RNG is the same object unless a
 *       separate {@code --sampler-rng} is requested);</li>
 *   <li>{@code sigmas = scheduler.sigmas(steps, table)}; for img2img cut them with {@link
 *       io.sdj.sampling.Img2ImgSchedule#of};</li>
 *   <li>{@code noise = rng.randn(W*H*C)} (width fastest) and {@code x = init + noise * sigmas[0]} ({@code init} = 0 for
 *       txt2img);</li>
 *   <li>run the sampler; every model call computes {@code D(x, sigma)} from the U-Net output at input
 *       {@code x * c_in} and timestep {@code sigma_to_t(sigma)}; ancestral samplers draw one {@code randn} of the
 *       latent size per noisy step from the same generator.</li>
 * </ol>
 * All element-wise arithmetic is float in sd.cpp's operation order; see {@link io.sdj.sampling.DoubleLibm} and
 * {@link io.sdj.sampling.FloatMath} for where sd.cpp evaluates transcendental functions in double or float.
 */
package io.sdj.sampling;
