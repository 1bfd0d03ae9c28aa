package io.sdj.pipeline;

import java.awt.image.BufferedImage;

/** Receives the preview pictures of a generation (sd-cli's step callback). */
@FunctionalInterface
public interface PreviewListener {
    /**
     * One preview.
     *
     * @param image the decoded latent
     * @param call  which model evaluation of this generation it comes from (1-based)
     * @param noisy true for the noisy model input ({@code --preview-noisy}), false for the denoised estimate
     */
    void preview(BufferedImage image, int call, boolean noisy);

    PreviewListener NONE = (image, call, noisy) -> {
    };
}
