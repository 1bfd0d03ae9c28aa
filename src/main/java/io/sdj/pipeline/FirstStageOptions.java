package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.vae.VaeTiling;

import java.nio.file.Path;

/**
 * How latents become pictures and back, with sd-cli's options: a TAESD file ({@code --taesd}) that replaces the KL
 * VAE for decoding and img2img encoding, or only serves previews ({@code --taesd-preview-only}); per-step previews
 * ({@code --preview}, {@code --preview-noisy}) sent to a {@link PreviewListener}; and VAE tiling ({@link VaeTiling}).
 *
 * @param taesd            the TAESD file (diffusers AutoencoderTiny layout, .safetensors), or null
 * @param taesdPreviewOnly use TAESD only for previews; the KL VAE still makes the final image
 * @param preview          what previews are decoded with
 * @param previewNoisy     preview the noisy model input instead of the denoised estimate
 * @param previewListener  where previews go
 * @param tiling           tiled decoding and encoding
 */
public record FirstStageOptions(Path taesd, boolean taesdPreviewOnly, PreviewMode preview, boolean previewNoisy,
                                PreviewListener previewListener, VaeTiling tiling) {

    /** The KL VAE, no previews, tiling off (with the automatic fallback). */
    public static final FirstStageOptions DEFAULT = new FirstStageOptions(null, false, PreviewMode.NONE, false,
            PreviewListener.NONE, VaeTiling.DEFAULT);

    public FirstStageOptions {
        preview = preview == null ? PreviewMode.NONE : preview;
        previewListener = previewListener == null ? PreviewListener.NONE : previewListener;
        tiling = tiling == null ? VaeTiling.DEFAULT : tiling;
        if (preview == PreviewMode.TAE && taesd == null) {
            throw new InvalidParameterException("preview", "the 'tae' preview needs a TAESD file (--taesd PATH)");
        }
    }

    /** True when TAESD replaces the KL VAE (decode and encode). */
    public boolean taesdReplacesVae() {
        return taesd != null && !taesdPreviewOnly;
    }

    public FirstStageOptions withTaesd(Path file, boolean previewOnly) {
        return new FirstStageOptions(file, previewOnly, preview, previewNoisy, previewListener, tiling);
    }

    public FirstStageOptions withPreview(PreviewMode mode, boolean noisy, PreviewListener listener) {
        return new FirstStageOptions(taesd, taesdPreviewOnly, mode, noisy, listener, tiling);
    }

    public FirstStageOptions withTiling(VaeTiling t) {
        return new FirstStageOptions(taesd, taesdPreviewOnly, preview, previewNoisy, previewListener, t);
    }
}
