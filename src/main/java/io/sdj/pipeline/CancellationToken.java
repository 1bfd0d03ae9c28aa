package io.sdj.pipeline;

/**
 * Lets another thread stop a running generation: {@link #cancel()} makes the generation end with a
 * {@link GenerationCancelledException} at the next step boundary.
 */
public final class CancellationToken {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
