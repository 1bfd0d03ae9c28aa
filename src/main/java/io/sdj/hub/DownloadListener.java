package io.sdj.hub;

/**
 * Receives the progress of hub downloads: a first call with the bytes already on disk (a resumed download starts
 * above zero), calls as data arrives (at most about every 1% or 1 MiB), and a last call with {@code done} set. Called
 * on the downloading thread; keep it quick.
 */
@FunctionalInterface
public interface DownloadListener {
    /** A listener that ignores everything. */
    DownloadListener NONE = p -> { };

    void onProgress(DownloadProgress progress);
}
