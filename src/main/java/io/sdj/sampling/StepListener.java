package io.sdj.sampling;

/** Receives a {@link SamplingStep} after every completed sampler step, on the sampling thread. */
@FunctionalInterface
public interface StepListener {
    /** A listener that ignores every step. */
    StepListener NONE = step -> { };

    /** Called after each completed step. */
    void onStep(SamplingStep step);
}
