package io.sdj.pipeline;

import io.sdj.family.ModelFamily;
import io.sdj.family.Sd1Family;
import io.sdj.family.Sd2Family;
import io.sdj.family.SdxlFamily;

import java.awt.image.BufferedImage;

/**
 * sd-cli's {@code --preview proj}: each latent cell becomes one RGB pixel through a fixed linear map of its four
 * channels plus a bias, then {@code v / 2 + 1/2}, clamped to [0, 1], times 255 (truncated). The factors are the
 * ones stable-diffusion.cpp's latent-preview.h gives (from ComfyUI's latent formats): one set for the SD 1.x / SD 2.x
 * VAE latent space, one for SDXL's.
 */
public final class LatentPreview {
    /** Per latent channel, its (r, g, b) contribution. */
    private final float[][] projection;
    private final float[] bias;

    private LatentPreview(float[][] projection, float[] bias) {
        this.projection = projection;
        this.bias = bias;
    }

    /** SD 1.x and SD 2.x latents (same VAE). */
    static final LatentPreview SD = new LatentPreview(new float[][]{
            {0.3512f, 0.2297f, 0.3227f},
            {0.3250f, 0.4974f, 0.2350f},
            {-0.2829f, 0.1762f, 0.2721f},
            {-0.2120f, -0.2616f, -0.7177f}}, new float[]{0, 0, 0});

    /** SDXL latents. */
    static final LatentPreview SDXL = new LatentPreview(new float[][]{
            {0.3651f, 0.4232f, 0.4341f},
            {-0.2533f, -0.0042f, 0.1068f},
            {0.1076f, 0.1111f, -0.0362f},
            {-0.3165f, -0.2492f, -0.2188f}}, new float[]{0.1084f, -0.0175f, -0.0011f});

    /** The projection for a family's latent space. */
    public static LatentPreview of(ModelFamily family) {
        return switch (family) {
            case Sd1Family f -> SD;
            case Sd2Family f -> SD;
            case SdxlFamily f -> SDXL;
        };
    }

    /**
     * The preview of a planar latent [w, h, channels] (w fastest). Channels beyond the four the projection knows are
     * ignored; missing ones count as zero.
     */
    public BufferedImage render(float[] latent, int w, int h) {
        int plane = w * h;
        int channels = Math.min(projection.length, latent.length / Math.max(plane, 1));
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            float r = bias[0];
            float g = bias[1];
            float b = bias[2];
            for (int c = 0; c < channels; c++) {
                float v = latent[c * plane + i];
                r += v * projection[c][0];
                g += v * projection[c][1];
                b += v * projection[c][2];
            }
            rgb[i] = toByte(r) << 16 | toByte(g) << 8 | toByte(b);
        }
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    private static int toByte(float v) {
        float x = v * 0.5f + 0.5f;
        if (!(x >= 0)) { // also NaN
            return 0;
        }
        return x >= 1 ? 255 : (int) (x * 255);
    }
}
