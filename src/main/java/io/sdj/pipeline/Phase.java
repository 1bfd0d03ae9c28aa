package io.sdj.pipeline;

/** The stages of loading a model and generating an image, as reported to a {@link ProgressListener}. */
public enum Phase {
    LOADING_WEIGHTS,
    TEXT_ENCODING,
    IMAGE_ENCODING,
    SAMPLING,
    DECODING
}
