package io.sdj.pipeline;

import io.sdj.runtime.Backend;
import io.sdj.sampling.Denoiser;
import io.sdj.sampling.ModelFn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.util.function.Supplier;

/**
 * The first-stage choices of a loaded model ({@link FirstStageOptions}): whether TAESD replaces the KL VAE, and
 * which decoder makes the per-step previews. Owns the TAESD weights.
 */
final class FirstStage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FirstStage.class);

    private final FirstStageOptions options;
    private final TaesdRunner taesd;

    private FirstStage(FirstStageOptions options, TaesdRunner taesd) {
        this.options = options;
        this.taesd = taesd;
    }

    /** Loads TAESD when the options name a file (encoder too unless it only serves previews). */
    static FirstStage open(FirstStageOptions options, Backend backend, boolean directConv) {
        FirstStageOptions o = options == null ? FirstStageOptions.DEFAULT : options;
        TaesdRunner t = null;
        if (o.taesd() != null) {
            LOG.info(o.taesdReplacesVae() ? "using TAESD for encoding / decoding" : "using TAESD for preview");
            t = TaesdRunner.load(o.taesd(), o.taesdReplacesVae(), backend, o.tiling(), directConv);
        }
        return new FirstStage(o, t);
    }

    FirstStageOptions options() {
        return options;
    }

    /** True when TAESD replaces the KL VAE: the VAE's weights need not be loaded. */
    boolean replacesVae() {
        return taesd != null && options.taesdReplacesVae();
    }

    /** The final picture: TAESD's when it replaces the VAE, else {@code vae}'s. */
    BufferedImage decode(float[] latent, int w, int h, LatentDecoder vae) {
        return (replacesVae() ? taesd : vae).decode(latent, w, h);
    }

    /** The init latent for img2img: TAESD's encoding when it replaces the VAE (no RNG draws), else {@code vae}'s. */
    float[] encode(BufferedImage image, int width, int height, Supplier<float[]> vae) {
        return replacesVae() ? taesd.encode(image, width, height) : vae.get();
    }

    /**
     * The model function with previews: each evaluation decodes the denoised estimate after the call, or with
     * {@code previewNoisy} the model input x·c_in before it, and hands the picture to the listener. Without a
     * preview mode the function is returned unchanged.
     */
    ModelFn withPreview(ModelFn model, Denoiser denoiser, int w, int h, LatentDecoder vae) {
        LatentDecoder decoder = switch (options.preview()) {
            case NONE, PROJ -> null;
            case TAE -> taesd;
            case VAE -> replacesVae() ? taesd : vae;
        };
        if (decoder == null) {
            return model;
        }
        PreviewListener listener = options.previewListener();
        boolean noisy = options.previewNoisy();
        int[] calls = {0};
        return (x, sigma) -> {
            int call = ++calls[0];
            if (noisy) {
                listener.preview(decoder.decode(Denoiser.scale(x, denoiser.scalings(sigma).cIn()), w, h), call, true);
            }
            float[] denoised = model.denoise(x, sigma);
            if (!noisy) {
                listener.preview(decoder.decode(denoised, w, h), call, false);
            }
            return denoised;
        };
    }

    @Override
    public void close() {
        if (taesd != null) {
            taesd.close();
        }
    }
}
