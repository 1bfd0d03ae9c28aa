package io.sdj.sampling;

import io.sdj.SdjException;

import java.util.function.BooleanSupplier;

/** The per-run state a {@link Sampler} works with: model calls, noise draws, cancellation and step reports. */
final class SamplingRun {
    private final ModelFn model;
    private final Rng rng;
    private final StepListener listener;
    private final BooleanSupplier cancelled;
    private final int length;
    private final int steps;
    private int modelCalls;
    private int completedSteps;

    SamplingRun(ModelFn model, Rng rng, StepListener listener, BooleanSupplier cancelled, int length, int steps) {
        this.model = model;
        this.rng = rng;
        this.listener = listener;
        this.cancelled = cancelled;
        this.length = length;
        this.steps = steps;
    }

    /** One model evaluation; checks cancellation first. The result never aliases {@code x}. */
    float[] denoise(float[] x, float sigma) {
        if (cancelled.getAsBoolean()) {
            throw new SamplingCancelledException(completedSteps, steps);
        }
        float[] out = model.denoise(x, sigma);
        modelCalls++;
        if (out == null || out.length != length) {
            throw new SdjException("model returned " + (out == null ? "nothing" : out.length + " values")
                    + " at sigma " + sigma + "; expected " + length + " values");
        }
        return out == x ? out.clone() : out;
    }

    /** One {@code randn} of the latent size on the sampler's generator. */
    float[] noise() {
        if (rng == null) {
            throw new SdjException("this sampler needs a random generator, but none was given");
        }
        return rng.randn(length);
    }

    /** Reports that step {@code index} (0-based) finished. */
    void stepDone(int index, float sigma, float[] x, float[] denoised) {
        completedSteps = index + 1;
        listener.onStep(new SamplingStep(index + 1, steps, sigma, x.clone(), denoised.clone(), modelCalls));
    }
}
