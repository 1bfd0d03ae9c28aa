package io.sdj.sampling;

import io.sdj.InvalidParameterException;

/**
 * The model-side arithmetic around the U-Net for CompVis models (eps or v prediction), in sd.cpp's float order:
 * sigma schedules, the timestep the U-Net gets, the input/output scalings, classifier-free guidance and the noising
 * of the initial latent. A pipeline's {@link ModelFn} is typically:
 *
 * <pre>{@code
 * Scalings s = denoiser.scalings(sigma);
 * float t = denoiser.timestep(sigma);
 * float[] in = Denoiser.scale(x, s.cIn());
 * float[] out = unet(in, t, cond);                       // and unet(in, t, uncond) when cfg != 1
 * out = Denoiser.guidance(out, outUncond, cfgScale);     // uncond + cfg * (cond - uncond)
 * return Denoiser.denoised(out, x, s);                   // out * cOut + x * cSkip
 * }</pre>
 */
public final class Denoiser {
    private final SigmaTable table;
    private final Prediction prediction;

    /** A denoiser over {@code table} for a model that predicts {@code prediction}. */
    public Denoiser(SigmaTable table, Prediction prediction) {
        if (table == null || prediction == null) {
            throw new InvalidParameterException("denoiser", "table and prediction are required");
        }
        this.table = table;
        this.prediction = prediction;
    }

    /** The model's sigma table. */
    public SigmaTable table() {
        return table;
    }

    /** What the model predicts. */
    public Prediction prediction() {
        return prediction;
    }

    /** {@code steps + 1} sampling sigmas of {@code scheduler} ({@link Scheduler#sigmas}). */
    public float[] sigmas(Scheduler scheduler, int steps) {
        return scheduler.sigmas(steps, table);
    }

    /** The preconditioning for {@code sigma}. */
    public Scalings scalings(float sigma) {
        return prediction.scalings(sigma);
    }

    /** The (fractional) timestep the U-Net's time embedding is given for {@code sigma} ({@link SigmaTable#sigmaToT}). */
    public float timestep(float sigma) {
        return table.sigmaToT(sigma);
    }

    /** {@code x * c} element-wise (the U-Net input is {@code scale(x, cIn)}). */
    public static float[] scale(float[] x, float c) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * c;
        }
        return out;
    }

    /**
     * sd.cpp's classifier-free guidance: {@code uncond + cfgScale * (cond - uncond)} element-wise in float; returns a
     * copy of {@code cond} when {@code uncond} is null (cfg 1: sd.cpp runs no unconditional pass).
     */
    public static float[] guidance(float[] cond, float[] uncond, float cfgScale) {
        if (uncond == null) {
            return cond.clone();
        }
        checkSameLength("uncond", cond, uncond);
        float[] out = new float[cond.length];
        for (int i = 0; i < cond.length; i++) {
            out[i] = uncond[i] + cfgScale * (cond[i] - uncond[i]);
        }
        return out;
    }

    /** The denoised estimate {@code out * cOut + x * cSkip} element-wise in float. */
    public static float[] denoised(float[] modelOut, float[] x, Scalings s) {
        checkSameLength("model output", x, modelOut);
        float[] out = new float[x.length];
        float cOut = s.cOut();
        float cSkip = s.cSkip();
        for (int i = 0; i < x.length; i++) {
            out[i] = modelOut[i] * cOut + x[i] * cSkip;
        }
        return out;
    }

    /**
     * The starting latent {@code init + noise * sigma} (sd.cpp's {@code noise_scaling} with {@code sigma =
     * sigmas[0]}); pass {@code init = null} for txt2img, where the latent starts at zero and the result is exactly
     * {@code noise * sigma}.
     */
    public static float[] noiseLatent(float[] init, float[] noise, float sigma) {
        if (init != null) {
            checkSameLength("noise", init, noise);
        }
        float[] out = new float[noise.length];
        for (int i = 0; i < noise.length; i++) {
            float scaled = noise[i] * sigma;
            out[i] = init == null ? 0.0f + scaled : init[i] + scaled;
        }
        return out;
    }

    private static void checkSameLength(String what, float[] expected, float[] actual) {
        if (actual.length != expected.length) {
            throw new InvalidParameterException(what, "expected " + expected.length + " values, got " + actual.length);
        }
    }
}
