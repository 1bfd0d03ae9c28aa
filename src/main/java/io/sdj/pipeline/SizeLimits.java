package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.model.ModelConfig;
import io.sdj.model.UnetConfig;
import io.sdj.model.VaeConfig;
import io.sdj.runtime.DeviceInfo;

import java.util.Locale;

/**
 * Checks, before any graph is built, that a request's size fits: every Java buffer (latent, image tensor, pixels)
 * within an array's range and within the JVM's heap, and the estimated peak compute memory of the largest
 * activations (the VAE decoder's full-resolution feature maps, the attention score matrices of the U-Net and of the
 * VAE's middle block) within the device's memory. The estimates are lower bounds: a refused size could never run;
 * an accepted one may still fail to allocate, which ggml reports as an error.
 */
final class SizeLimits {
    /** Largest Java array. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private SizeLimits() {
    }

    /**
     * @param width      aligned pixel width
     * @param height     aligned pixel height
     * @param batch      images in the request
     * @param img2img    whether an init image is encoded
     * @param heapBytes  the JVM's maximum heap ({@link Runtime#maxMemory()})
     * @param device     where the graphs run (its total memory; 0 means unknown and skips that check)
     */
    static void check(ModelConfig config, int width, int height, int batch, boolean img2img, long heapBytes,
                      DeviceInfo device) {
        VaeConfig vae = config.vae();
        UnetConfig unet = config.unet();
        long pixels = (long) width * height;
        long imageElements = pixels * 3;
        int f = vae.downscale();
        long cells = (long) (width / f) * (height / f);
        long latentElements = cells * Math.max(unet.inChannels(), Math.max(unet.outChannels(), vae.zChannels() * 2));
        if (imageElements > MAX_ARRAY || latentElements > MAX_ARRAY) {
            throw new InvalidParameterException("width", String.format(Locale.ROOT,
                    "%dx%d gives an image of %d values, more than a Java array holds (%d)", width, height,
                    Math.max(imageElements, latentElements), MAX_ARRAY));
        }
        // the decoder output and its copy, the image's pixels, and for img2img the encoder input and its copy
        long perImage = pixels * 4;
        long working = imageElements * 4 * (img2img ? 4 : 2) + latentElements * 4 * 8;
        long heap = working + perImage * batch;
        if (heapBytes > 0 && heap > heapBytes) {
            String parameter = working + perImage > heapBytes ? "width" : "batch_count";
            throw new InvalidParameterException(parameter, String.format(Locale.ROOT,
                    "%dx%d x %d image(s) need at least %d MiB of Java heap; this JVM has %d MiB (raise -Xmx, or ask"
                            + " for fewer or smaller images)", width, height, batch, heap >> 20, heapBytes >> 20));
        }
        long compute = computeBytes(config, width, height);
        if (device != null && device.totalBytes() > 0 && compute > device.totalBytes()) {
            throw new InvalidParameterException("width", String.format(Locale.ROOT,
                    "%dx%d needs at least %.1f GiB of compute memory for this model; %s has %.1f GiB (use a smaller"
                            + " size)", width, height, compute / 1073741824.0, device.name(),
                    device.totalBytes() / 1073741824.0));
        }
    }

    /** The largest of the dominant activations, in bytes (f32). */
    static long computeBytes(ModelConfig config, int width, int height) {
        VaeConfig vae = config.vae();
        UnetConfig unet = config.unet();
        long pixels = (long) width * height;
        // decoder at full resolution: input, two convolution outputs and the normalised copy live at once
        long decoder = saturatingMul(pixels, (long) vae.channels(0) * 4 * 4);
        int f = vae.downscale();
        long cells = (long) (width / f) * (height / f);
        long vaeAttention = saturatingMul(cells, cells * 4);
        long unetAttention = 0;
        for (int level = 0; level < unet.levels(); level++) {
            if (unet.hasAttention(level)) {
                long side = 1L << level;
                long tokens = (width / f / side) * (height / f / side);
                long heads = unet.heads(unet.channels(level));
                unetAttention = Math.max(unetAttention, saturatingMul(saturatingMul(tokens, tokens), heads * 4));
            }
        }
        return Math.max(decoder, Math.max(vaeAttention, unetAttention));
    }

    private static long saturatingMul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }
}
