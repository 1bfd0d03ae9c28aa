package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.FirstStageRunner;
import io.sdj.vae.Planar;
import io.sdj.vae.VaeTiling;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Runs the VAE decoder and encoder graphs (built per call: their sizes change with the image), whole or in tiles
 * ({@link FirstStageRunner}: with --vae-tiling, or automatically when the whole graph would not fit). With a second,
 * direct-convolution autoencoder over the same weights ({@link VaeConvolution#AUTO}), a decode or encode whose im2col
 * buffers would exceed the compute budget runs with direct convolution instead (same pixels on the CPU).
 */
final class VaeRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VaeRunner.class);

    private final AutoencoderKL vae;
    private final AutoencoderKL direct;
    private final LongSupplier computeBudget;
    private final FirstStageRunner runner;
    private final int factor;
    private volatile boolean lastDirect;

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
        Planar in = new Planar(latent, w, h, z);
        AutoencoderKL use = choose(in, true);
        return runner.decode(in, factor, use::decode).data();
    }

    /** Image [W, H, 3] in [-1, 1] to moments [W/f, H/f, 2z] (means first, then log-variances). */
    float[] encode(float[] image, int width, int height) {
        Planar in = new Planar(image, width, height, 3);
        AutoencoderKL use = choose(in, false);
        return runner.encode(in, factor, use::encode).data();
    }

    private AutoencoderKL choose(Planar in, boolean decode) {
        lastDirect = false;
        if (direct == null || runner.tiling().enabled()) {
            return vae;
        }
        long budget = computeBudget.getAsLong();
        if (budget == Long.MAX_VALUE) {
            return vae;
        }
        long need = runner.measure(in, decode ? vae::decode : vae::encode);
        if (need <= budget) {
            return vae;
        }
        lastDirect = true;
        LOG.info("VAE {} of {}x{}: im2col convolution would need {} MiB of compute memory, more than the {} MiB the "
                        + "sampling phase left; using direct convolution (same pixels, smaller buffers)",
                decode ? "decode" : "encode", in.width(), in.height(), need >> 20, budget >> 20);
        return direct;
    }

    /** True when the last decode or encode switched to direct convolution by memory. */
    boolean lastDirect() {
        return lastDirect;
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
