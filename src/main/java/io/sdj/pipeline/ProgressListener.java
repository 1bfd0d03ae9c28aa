package io.sdj.pipeline;

import java.util.function.Consumer;

/**
 * Receives progress while a model loads or an image is generated; called on the generating thread. A listener
 * that also wants previews of the image being sampled says how often ({@link #previewInterval()}) and receives them
 * in {@link #onPreview}; {@link #withPreviews} makes one from two lambdas.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> { };

    void onProgress(Progress progress);

    /** Every how many sampling steps {@link #onPreview} is called; 0 (the default) for never. */
    default int previewInterval() {
        return 0;
    }

    /** A preview of the image being sampled (the current denoised latent through {@link LatentPreview}). */
    default void onPreview(Preview preview) {
    }

    /**
     * A listener that passes progress to {@code progress} and a preview every {@code interval} steps (and after the
     * last step) to {@code previews}.
     */
    static ProgressListener withPreviews(ProgressListener progress, int interval, Consumer<Preview> previews) {
        if (interval < 1) {
            throw new io.sdj.InvalidParameterException("preview_interval", "must be at least 1, got " + interval);
        }
        ProgressListener p = progress == null ? NONE : progress;
        return new ProgressListener() {
            @Override
            public void onProgress(Progress pr) {
                p.onProgress(pr);
            }

            @Override
            public int previewInterval() {
                return interval;
            }

            @Override
            public void onPreview(Preview preview) {
                previews.accept(preview);
            }
        };
    }
}
