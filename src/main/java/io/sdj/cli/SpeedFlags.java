package io.sdj.cli;

import io.sdj.SdjException;
import io.sdj.pipeline.FirstStageOptions;
import io.sdj.pipeline.FlashAttention;
import io.sdj.pipeline.PreviewListener;
import io.sdj.pipeline.PreviewMode;
import io.sdj.pipeline.VaeConvolution;
import io.sdj.runtime.BlasUse;
import io.sdj.vae.VaeTiling;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * sd-cli's speed and memory options, as parsed: {@code --taesd}, {@code --taesd-preview-only}, {@code --preview},
 * {@code --preview-path}, {@code --preview-interval}, {@code --preview-noisy}, {@code --vae-tiling}, {@code
 * --vae-tile-size}, {@code --vae-relative-tile-size}, {@code --vae-tile-overlap}, {@code --diffusion-fa} and {@code
 * --fa}, sdj's {@code --no-fa}, {@code --vae-conv-direct}, and sdj's {@code --no-blas} and {@code --blas-quantized}.
 *
 * @param taesd            the TAESD file, or null
 * @param taesdPreviewOnly TAESD only for previews
 * @param preview          preview method
 * @param previewPath      where previews are written (overwritten at every model call)
 * @param previewInterval  accepted as sd-cli accepts it; like sd.cpp (at the reference commit) the library previews
 *                         every model call regardless
 * @param previewNoisy     preview the noisy model input rather than the denoised estimate
 * @param tiling           VAE tiling
 * @param diffusionFa      flash attention in the diffusion model
 * @param fa               flash attention everywhere sdj has attention (U-Net and VAE)
 * @param noFa             regular attention everywhere (sd-cli's behaviour without the flash flags), instead of the
 *                         automatic choice
 * @param vaeConvDirect    ggml_conv_2d_direct in the VAE and TAESD (no im2col buffer)
 * @param noBlas           the CPU backend keeps its matrix products instead of handing them to ggml's BLAS backend
 * @param blasQuantized    graphs with quantized products use ggml's BLAS backend too ({@link BlasUse#ALL})
 */
public record SpeedFlags(Path taesd, boolean taesdPreviewOnly, PreviewMode preview, String previewPath,
                         int previewInterval, boolean previewNoisy, VaeTiling tiling, boolean diffusionFa,
                         boolean fa, boolean noFa, boolean vaeConvDirect, boolean noBlas,
                         boolean blasQuantized) {
    /** sd-cli's default preview file. */
    public static final String DEFAULT_PREVIEW_PATH = "preview.png";

    private static final Pattern INT_PAIR = Pattern.compile("\\s*(\\d{1,6})(?:\\s*x\\s*(\\d{1,6}))?\\s*");
    private static final Pattern NUMBER = Pattern.compile("\\d*\\.?\\d+(?:[eE][+-]?\\d+)?|\\d+\\.");
    private static final Pattern FLOAT_PAIR = Pattern.compile("\\s*(" + NUMBER + ")(?:\\s*x\\s*(" + NUMBER + "))?\\s*");

    /** True when flash attention is asked for in the U-Net. */
    public boolean flashAttentionInUnet() {
        return diffusionFa || fa;
    }

    /** The U-Net's flash-attention setting: ON when asked for, OFF with --no-fa, else AUTO. */
    public FlashAttention unetFlash() {
        return noFa ? FlashAttention.OFF : flashAttentionInUnet() ? FlashAttention.ON : FlashAttention.AUTO;
    }

    /** The VAE's flash-attention setting: ON with --fa, OFF with --no-fa, else AUTO. */
    public FlashAttention vaeFlash() {
        return noFa ? FlashAttention.OFF : fa ? FlashAttention.ON : FlashAttention.AUTO;
    }

    /** The VAE's convolution: DIRECT with --vae-conv-direct, else AUTO. */
    public VaeConvolution vaeConvolution() {
        return vaeConvDirect ? VaeConvolution.DIRECT : VaeConvolution.AUTO;
    }

    /** Which graphs use ggml's BLAS backend: OFF with --no-blas, ALL with --blas-quantized, else UNQUANTIZED. */
    public BlasUse blasUse() {
        return noBlas ? BlasUse.OFF : blasQuantized ? BlasUse.ALL : BlasUse.UNQUANTIZED;
    }

    /** The pipeline's first-stage options, previews going to {@code listener}. */
    public FirstStageOptions firstStage(PreviewListener listener) {
        return new FirstStageOptions(taesd, taesdPreviewOnly, preview, previewNoisy, listener, tiling);
    }

    /** Checks combinations sd-cli would reject or that sdj cannot do. */
    void validate() {
        if (preview == PreviewMode.TAE && taesd == null) {
            throw new UsageException("--preview tae needs a TAESD file: give it with --taesd PATH");
        }
        if (noFa && flashAttentionInUnet()) {
            throw new UsageException("--no-fa contradicts " + (fa ? "--fa" : "--diffusion-fa") + ": give one of them");
        }
        if (noBlas && blasQuantized) {
            throw new UsageException("--no-blas contradicts --blas-quantized: give one of them");
        }
        if (previewPath.isEmpty()) {
            throw new UsageException("--preview-path: must not be empty");
        }
    }

    /** "X" or "XxY" tile sizes in latent pixels. */
    static int[] intPair(String flag, String text) {
        Matcher m = INT_PAIR.matcher(text);
        if (!m.matches()) {
            throw new UsageException(flag + ": expected [X]x[Y] (e.g. 32x32), got '" + text + "'");
        }
        int x = Integer.parseInt(m.group(1));
        int y = m.group(2) == null ? x : Integer.parseInt(m.group(2));
        if (x < VaeTiling.MIN_TILE_SIZE || y < VaeTiling.MIN_TILE_SIZE) {
            throw new UsageException(flag + ": tiles must be at least " + VaeTiling.MIN_TILE_SIZE
                    + " latent pixels, got " + text);
        }
        return new int[]{x, y};
    }

    /** "X" or "XxY" relative sizes (fractions ≤ 1 or tile counts > 1). */
    static float[] floatPair(String flag, String text) {
        Matcher m = FLOAT_PAIR.matcher(text);
        if (!m.matches()) {
            throw new UsageException(flag + ": expected [X]x[Y] (e.g. 0.5x0.5 or 2x2), got '" + text + "'");
        }
        float x = Float.parseFloat(m.group(1));
        float y = m.group(2) == null ? x : Float.parseFloat(m.group(2));
        if (!(x > 0) || !(y > 0) || Float.isInfinite(x) || Float.isInfinite(y)) {
            throw new UsageException(flag + ": sizes must be positive, got " + text);
        }
        return new float[]{x, y};
    }

    /** Mutable state while parsing; starts at sd-cli's defaults. */
    static final class Builder {
        Path taesd;
        boolean taesdPreviewOnly;
        PreviewMode preview = PreviewMode.NONE;
        String previewPath = DEFAULT_PREVIEW_PATH;
        int previewInterval = 1;
        boolean previewNoisy;
        boolean vaeTiling;
        int[] tileSize = {VaeTiling.DEFAULT_TILE_SIZE, VaeTiling.DEFAULT_TILE_SIZE};
        float[] relativeTileSize = {0, 0};
        float tileOverlap = VaeTiling.DEFAULT_OVERLAP;
        boolean diffusionFa;
        boolean fa;
        boolean noFa;
        boolean vaeConvDirect;
        boolean noBlas;
        boolean blasQuantized;

        void preview(String flag, String name) {
            try {
                preview = PreviewMode.fromName(name);
            } catch (SdjException e) {
                throw new UsageException(flag + ": unknown preview method '" + name
                        + "'; expected one of none, proj, tae, vae", e);
            }
        }

        SpeedFlags build() {
            return new SpeedFlags(taesd, taesdPreviewOnly, preview, previewPath, previewInterval, previewNoisy,
                    new VaeTiling(vaeTiling, tileSize[0], tileSize[1], relativeTileSize[0], relativeTileSize[1],
                            tileOverlap, 0), diffusionFa, fa, noFa, vaeConvDirect, noBlas, blasQuantized);
        }
    }
}
