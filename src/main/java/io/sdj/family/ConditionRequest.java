package io.sdj.family;

/**
 * The settings a conditioner needs besides the prompt.
 *
 * @param clipSkip 1 = the last text-encoder layer, 2 = the one before it, ... (already resolved: no "default")
 * @param width    output width in pixels (SDXL's size conditioning)
 * @param height   output height in pixels
 */
public record ConditionRequest(int clipSkip, int width, int height) {
}
