package io.sdj.family;

/**
 * How a family's VAE latents relate to what the diffusion model sees: {@code diffusion = (vae - shift) · scale}.
 * sd.cpp divides (not multiplies by the reciprocal) on the way back, so decoding gives the same floats as it.
 *
 * @param channels latent channels (4)
 * @param scale    the scale factor (SD 1.x/2.x 0.18215, SDXL 0.13025)
 * @param shift    the shift factor (0 for these families)
 */
public record LatentFormat(int channels, float scale, float shift) {
    /** SD 1.x and SD 2.x. */
    public static final LatentFormat SD1 = new LatentFormat(4, 0.18215f, 0.0f);
    /** SDXL. */
    public static final LatentFormat SDXL = new LatentFormat(4, 0.13025f, 0.0f);

    /** Diffusion-space latent to what the VAE decoder takes: {@code x / scale + shift}. */
    public float[] toVae(float[] latent) {
        float[] out = new float[latent.length];
        for (int i = 0; i < latent.length; i++) {
            out[i] = latent[i] / scale + shift;
        }
        return out;
    }

    /** A VAE latent sample to diffusion space: {@code (x - shift) · scale}. */
    public float fromVae(float x) {
        return (x - shift) * scale;
    }

    @Override
    public String toString() {
        return channels + " channels, scale " + scale + (shift != 0 ? ", shift " + shift : "");
    }
}
