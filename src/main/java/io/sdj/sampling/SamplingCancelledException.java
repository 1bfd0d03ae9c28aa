package io.sdj.sampling;

import io.sdj.SdjException;

/** Sampling stopped because its cancellation flag was raised; no result exists. */
public class SamplingCancelledException extends SdjException {
    private final int completedSteps;

    public SamplingCancelledException(int completedSteps, int steps) {
        super("sampling cancelled after " + completedSteps + " of " + steps + " steps");
        this.completedSteps = completedSteps;
    }

    /** Steps that had completed when the cancellation was seen. */
    public int completedSteps() {
        return completedSteps;
    }
}
