package io.sdj.pipeline;

/** When a loaded model's weights are on the backend. */
public enum WeightResidency {
    /** Every component loaded at build time and kept until {@link StableDiffusion#close()} (many generations). */
    RESIDENT,
    /**
     * Each component (text encoders, U-Net, VAE) loaded when a generation first needs it and released as soon as it
     * is done with: peak memory is the largest component plus its compute buffers, not the sum. Each generation
     * reads the weights again, so this suits one-shot use such as the CLI.
     */
    ON_DEMAND
}
