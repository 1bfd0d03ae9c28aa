package io.sdj.pipeline;

/**
 * Seconds spent in each phase of one generation (summed over the batch).
 *
 * @param textEncoding  CLIP for the prompt and the negative prompt
 * @param imageEncoding VAE encoder (image-to-image only)
 * @param sampling      all sampling steps
 * @param decoding      VAE decoder
 * @param steps         sampling steps run (per image)
 */
public record Timings(double textEncoding, double imageEncoding, double sampling, double decoding, int steps) {
    /** Seconds per sampling step (over the whole batch). */
    public double secondsPerStep(int batchCount) {
        return steps == 0 ? 0 : sampling / (steps * (double) batchCount);
    }
}
