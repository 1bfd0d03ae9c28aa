package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.VaeTiling;

import java.util.function.LongSupplier;

/**
 * Runs the VAE decoder and encoder graphs (built per call: their sizes change with the image), whole or in tiles
 * ({@link FirstStageRunner}: with --vae-tiling, or automatically when the whole graph would not fit). With a second,
 * direct-convolution autoencoder over the same weights ({@link VaeConvolution#AUTO}), a decode or encode whose im2col
 * buffers would exceed the compute budget runs with direct convolution instead (same pixels on the CPU).
 */
final class VaeRunner implements AutoCloseable {
    private final AutoencoderKL vae;
    private final AutoencoderKL direct;
    private final LongSupplier computeBudget;
    private final FirstStageRunner runner;
    private final int factor;

    VaeRunner(AutoencoderKL vae, Backend backend) {
        this(vae, backend, VaeTiling.DEFAULT);
    }

    VaeRunner(AutoencoderKL vae, Backend backend, VaeTiling tiling) {
        this(vae, null, () -> Long.MAX_VALUE, backend, tiling);
    }

    /**
     * @param vae           the autoencoder used by default
     * @param direct        the same weights with direct convolution, used when {@code vae}'s compute memory would
     *                      exceed {@code computeBudget}; null to always use {@code vae}
     * @param computeBudget bytes of compute memory a whole decode or encode may take before {@code direct} is used
     */
    VaeRunner(AutoencoderKL vae, AutoencoderKL direct, LongSupplier computeBudget, Backend backend, VaeTiling tiling) {
        this.vae = vae;
        this.direct = direct;
        this.computeBudget = computeBudget;
        this.runner = new FirstStageRunner(backend, tiling, "vae");
        this.factor = 1 << (vae.config().levels() - 1);
    }

    /** Latent [w, h, z] (already divided by the scale factor) to an image [fw, fh, 3] roughly in [-1, 1]. */
    float[] decode(float[] latent, int w, int h, int z) {
        FirstStageRunner.LeanGraph lean = lean(direct == null ? null : direct::decode);
        return runner.decode(new Planar(latent, w, h, z), factor, vae::decode, lean).data();
    }

    /** Image [W, H, 3] in [-1, 1] to moments [W/f, H/f, 2z] (means first, then log-variances). */
    float[] encode(float[] image, int width, int height) {
        FirstStageRunner.LeanGraph lean = lean(direct == null ? null : direct::encode);
        return runner.encode(new Planar(image, width, height, 3), factor, vae::encode, lean).data();
    }

    /** Direct convolution as the runner's lean graph, within the budget the sampling phase left; null for none. */
    private FirstStageRunner.LeanGraph lean(FirstStageRunner.GraphFn directFn) {
        if (directFn == null) {
            return null;
        }
        long budget = computeBudget.getAsLong();
        return budget == Long.MAX_VALUE ? null : new FirstStageRunner.LeanGraph(directFn, budget, "direct convolution");
    }

    /** True when the last decode or encode switched to direct convolution by memory. */
    boolean lastDirect() {
        return runner.lastLean();
    }

    /** The runner (tiling settings, last compute size). */
    FirstStageRunner runner() {
        return runner;
    }

    /** Nothing to free: the graphs are built and freed per call. */
    @Override
    public void close() {
    }
}
