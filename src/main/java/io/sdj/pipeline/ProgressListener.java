package io.sdj.pipeline;

/** Receives progress while a model loads or an image is generated; called on the generating thread. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> { };

    void onProgress(Progress progress);
}
