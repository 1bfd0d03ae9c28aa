package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.VaeTiling;

/**
 * Runs the VAE decoder and encoder graphs (built per call: their sizes change with the image), whole or in tiles
 * ({@link FirstStageRunner}: with --vae-tiling, or automatically when the whole graph would not fit).
 */
final class VaeRunner implements AutoCloseable {
    private final AutoencoderKL vae;
    private final FirstStageRunner runner;
    private final int factor;

    VaeRunner(AutoencoderKL vae, Backend backend) {
        this(vae, backend, VaeTiling.DEFAULT);
    }

    VaeRunner(AutoencoderKL vae, Backend backend, VaeTiling tiling) {
        this.vae = vae;
        this.runner = new FirstStageRunner(backend, tiling, "vae");
        this.factor = 1 << (vae.config().levels() - 1);
    }

    /** Latent [w, h, z] (already divided by the scale factor) to an image [fw, fh, 3] roughly in [-1, 1]. */
    float[] decode(float[] latent, int w, int h, int z) {
        return runner.decode(new Planar(latent, w, h, z), factor, vae::decode).data();
    }

    /** Image [W, H, 3] in [-1, 1] to moments [W/f, H/f, 2z] (means first, then log-variances). */
    float[] encode(float[] image, int width, int height) {
        return runner.encode(new Planar(image, width, height, 3), factor, vae::encode).data();
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
