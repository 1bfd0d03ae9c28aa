package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.function.BooleanSupplier;

/**
 * A k-diffusion sampler as sd.cpp implements it: walks a latent down a sigma schedule by calling a {@link ModelFn}
 * for denoised estimates, drawing ancestral noise from an {@link Rng} with one {@code randn(latentSize)} per noisy
 * step. All latent arithmetic is element-wise float in sd.cpp's order of operations.
 *
 * <p>Typical use (txt2img):
 * <pre>{@code
 * Rng rng = RngKind.CUDA.create(seed);
 * float[] sigmas = denoiser.sigmas(Scheduler.DISCRETE, steps);
 * float[] x = Denoiser.noiseLatent(null, rng.randn(latentSize), sigmas[0]);
 * float[] latent = Sampler.of(SamplerKind.EULER_A).sample(model, x, sigmas, rng, StepListener.NONE, () -> false);
 * }</pre>
 * sd.cpp uses one generator object for the initial noise and the sampler unless a separate sampler RNG type is
 * requested, so ancestral noise continues the stream right after the initial noise.
 */
public abstract sealed class Sampler
        permits EulerSampler, EulerAncestralSampler, HeunSampler, Dpm2Sampler, DpmPp2sAncestralSampler,
        DpmPp2mSampler, IpndmSampler, LcmSampler, TcdSampler {

    Sampler() {
    }

    /** The sampler with sd.cpp's default eta for {@code kind} ({@link SamplerKind#defaultEta()}). */
    public static Sampler of(SamplerKind kind) {
        return of(kind, kind.defaultEta());
    }

    /**
     * The sampler with an explicit eta (the amount of ancestral noise; ignored by samplers that take none).
     *
     * @throws InvalidParameterException if eta is NaN, infinite or negative
     */
    public static Sampler of(SamplerKind kind, float eta) {
        if (!Float.isFinite(eta) || eta < 0) {
            throw new InvalidParameterException("eta", "expected a finite value >= 0, got " + eta);
        }
        return switch (kind) {
            case EULER -> new EulerSampler();
            case EULER_A, DDIM_TRAILING -> new EulerAncestralSampler(kind, eta);
            case HEUN -> new HeunSampler();
            case DPM2 -> new Dpm2Sampler();
            case DPMPP2S_A -> new DpmPp2sAncestralSampler(eta);
            case DPMPP2M -> new DpmPp2mSampler(false);
            case DPMPP2MV2 -> new DpmPp2mSampler(true);
            case IPNDM -> new IpndmSampler(false);
            case IPNDM_V -> new IpndmSampler(true);
            case LCM -> new LcmSampler();
            case TCD -> new TcdSampler(eta);
        };
    }

    /** Which sampler this is. */
    public abstract SamplerKind kind();

    /** The eta this sampler runs with (0 for samplers without one). */
    public float eta() {
        return 0.0f;
    }

    /**
     * Runs the sampler.
     *
     * @param model     the denoiser
     * @param x         the starting latent (already noised: {@link Denoiser#noiseLatent}); not modified
     * @param sigmas    the schedule, {@code steps + 1} finite non-negative values (normally ending in 0)
     * @param rng       the generator for ancestral noise; may be null for samplers that draw none
     * @param listener  told about every completed step; may be null
     * @param cancelled polled before every model call; may be null
     * @return the final latent (a new array)
     * @throws SamplingCancelledException when {@code cancelled} turns true
     * @throws InvalidParameterException  for an empty latent or a bad schedule
     */
    public final float[] sample(ModelFn model, float[] x, float[] sigmas, Rng rng, StepListener listener,
                                BooleanSupplier cancelled) {
        if (model == null) {
            throw new InvalidParameterException("model", "a model function is required");
        }
        if (x == null || x.length == 0) {
            throw new InvalidParameterException("latent", "expected a non-empty latent");
        }
        if (sigmas == null || sigmas.length == 0) {
            throw new InvalidParameterException("sigmas", "expected at least one sigma");
        }
        for (int i = 0; i < sigmas.length; i++) {
            if (!Float.isFinite(sigmas[i]) || sigmas[i] < 0) {
                throw new InvalidParameterException("sigmas", "sigma " + i + " is " + sigmas[i]
                        + "; expected a finite value >= 0");
            }
        }
        int steps = sigmas.length - 1;
        SamplingRun run = new SamplingRun(model, rng, listener == null ? StepListener.NONE : listener,
                cancelled == null ? () -> false : cancelled, x.length, steps);
        return run(run, x.clone(), sigmas.clone());
    }

    /** The sampler's loop over {@code sigmas}; {@code x} is a private copy it may overwrite. */
    abstract float[] run(SamplingRun run, float[] x, float[] sigmas);

    @Override
    public String toString() {
        return kind().cliName() + (kind().usesEta() ? "(eta=" + eta() + ")" : "");
    }

    /** The probability-flow ODE derivative (k-diffusion's to_d): {@code out = (x - denoised) / sigma}, in float. */
    static void derivative(float[] x, float[] denoised, float sigma, float[] out) {
        for (int j = 0; j < x.length; j++) {
            out[j] = (x[j] - denoised[j]) / sigma;
        }
    }
}
