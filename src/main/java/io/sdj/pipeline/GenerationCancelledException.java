package io.sdj.pipeline;

import io.sdj.SdjException;

/** A generation was stopped through its {@link CancellationToken}. */
public class GenerationCancelledException extends SdjException {
    public GenerationCancelledException(String message) {
        super(message);
    }
}
