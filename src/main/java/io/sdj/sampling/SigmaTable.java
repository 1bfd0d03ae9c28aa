package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.Arrays;

/**
 * The 1000-entry discrete noise schedule of a CompVis/LDM model (sd.cpp's {@code CompVisDenoiser} tables):
 * {@code sigma[t] = sqrt((1 - alphas_cumprod[t]) / alphas_cumprod[t])} and {@code logSigma[t] = ln sigma[t]}, both in
 * float arithmetic, plus the continuous mappings between timestep and sigma that schedulers and the U-Net use.
 *
 * <p>sd.cpp takes {@code alphas_cumprod} from the model file when it holds a valid 1000-value tensor (checkpoints
 * store it as F16, so the table is built from F16-rounded values) and otherwise computes the LDM scaled-linear
 * schedule in float ({@link #ldmLinear()}).
 */
public final class SigmaTable {
    /** Number of training timesteps. */
    public static final int TIMESTEPS = 1000;

    private final float[] sigmas = new float[TIMESTEPS];
    private final float[] logSigmas = new float[TIMESTEPS];

    private SigmaTable(float[] alphasCumprod) {
        for (int i = 0; i < TIMESTEPS; i++) {
            float a = alphasCumprod[i];
            sigmas[i] = FloatMath.sqrt((1 - a) / a);
            logSigmas[i] = FloatMath.log(sigmas[i]);
        }
    }

    /**
     * The table for a model's own {@code alphas_cumprod} (as float values, e.g. F16 widened to F32).
     *
     * @throws InvalidParameterException unless there are exactly 1000 finite values in (0, 1] (sd.cpp ignores such a
     *                                   tensor with a warning and falls back to {@link #ldmLinear()}; the caller decides)
     */
    public static SigmaTable fromAlphasCumprod(float[] alphasCumprod) {
        if (alphasCumprod == null || alphasCumprod.length != TIMESTEPS) {
            throw new InvalidParameterException("alphas_cumprod", "expected " + TIMESTEPS + " values, got "
                    + (alphasCumprod == null ? "none" : alphasCumprod.length));
        }
        for (int i = 0; i < TIMESTEPS; i++) {
            float a = alphasCumprod[i];
            if (!Float.isFinite(a) || a <= 0.0f || a > 1.0f) {
                throw new InvalidParameterException("alphas_cumprod",
                        "value " + i + " is " + a + "; expected a finite value in (0, 1]");
            }
        }
        return new SigmaTable(alphasCumprod);
    }

    /** sd.cpp's fallback table: {@link #ldmLinearAlphasCumprod()}. */
    public static SigmaTable ldmLinear() {
        return new SigmaTable(ldmLinearAlphasCumprod());
    }

    /**
     * sd.cpp's {@code calculate_alphas_cumprod}: betas linear in sqrt space from 0.00085 to 0.012 and a running
     * product, everything in float ({@code beta = sqrt(0.00085) + (sqrt(0.012) - sqrt(0.00085)) * (i / 999f)},
     * {@code prod *= 1 - beta^2}). Note the LDM checkpoints store the same schedule computed in double.
     */
    public static float[] ldmLinearAlphasCumprod() {
        float lsSqrt = FloatMath.sqrt(0.00085f);
        float leSqrt = FloatMath.sqrt(0.0120f);
        float amount = leSqrt - lsSqrt;
        float product = 1.0f;
        float[] out = new float[TIMESTEPS];
        for (int i = 0; i < TIMESTEPS; i++) {
            float beta = lsSqrt + amount * ((float) i / (TIMESTEPS - 1));
            product *= 1.0f - beta * beta;
            out[i] = product;
        }
        return out;
    }

    /** {@code sigma[0]}, the smallest training sigma. */
    public float sigmaMin() {
        return sigmas[0];
    }

    /** {@code sigma[999]}, the largest training sigma. */
    public float sigmaMax() {
        return sigmas[TIMESTEPS - 1];
    }

    /** Sigma of training timestep {@code t} (0..999). */
    public float sigma(int t) {
        return sigmas[t];
    }

    /** A copy of the 1000 sigmas. */
    public float[] sigmas() {
        return Arrays.copyOf(sigmas, TIMESTEPS);
    }

    /** A copy of the 1000 log-sigmas. */
    public float[] logSigmas() {
        return Arrays.copyOf(logSigmas, TIMESTEPS);
    }

    /**
     * sd.cpp's {@code t_to_sigma}: linear interpolation of log-sigma between {@code floor(t)} and {@code ceil(t)},
     * then {@code exp}, in float.
     *
     * <p>For a few step counts (22, 43, 46, ...) sd.cpp's discrete scheduler produces a last timestep of
     * {@code -6.1e-5}, so {@code floor(t) = -1} and sd.cpp reads {@code log_sigmas[-1]}, which in its object layout is
     * {@code sigmas[999]}. This method reproduces that value for {@code -1 < t < 0} so those schedules match.
     *
     * @throws InvalidParameterException if {@code t} is NaN or outside {@code (-1, 999]}
     */
    public float tToSigma(float t) {
        if (!(t > -1.0f && t <= TIMESTEPS - 1)) {
            throw new InvalidParameterException("timestep", "expected a value in (-1, 999], got " + t);
        }
        int low = (int) StrictMath.floor(t);
        int high = (int) StrictMath.ceil(t);
        float w = t - (float) low;
        float lowLog = low < 0 ? sigmas[TIMESTEPS - 1] : logSigmas[low];
        float logSigma = (1.0f - w) * lowLog + w * logSigmas[high];
        return FloatMath.exp(logSigma);
    }

    /**
     * sd.cpp's {@code sigma_to_t}, the (fractional) timestep the U-Net is given for {@code sigma}: find the table
     * interval around {@code ln sigma}, interpolate linearly, clamp to [0, 999]; float arithmetic.
     */
    public float sigmaToT(float sigma) {
        float logSigma = FloatMath.log(sigma);
        int lowIdx = 0;
        for (int i = 0; i < TIMESTEPS; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                lowIdx++;
            }
        }
        lowIdx = Math.min(Math.max(lowIdx - 1, 0), TIMESTEPS - 2);
        int highIdx = lowIdx + 1;
        float low = logSigmas[lowIdx];
        float high = logSigmas[highIdx];
        float w = (low - logSigma) / (low - high);
        w = FloatMath.cMax(0.0f, FloatMath.cMin(1.0f, w));
        return (1.0f - w) * lowIdx + w * highIdx;
    }
}
