package io.sdj.pipeline;

import java.awt.image.BufferedImage;

/**
 * A cheap look at an image while it is sampled: the latent projected to RGB ({@link LatentPreview}), one pixel per
 * latent cell (1/8 of the final size).
 *
 * @param step  sampling steps done (1-based)
 * @param steps sampling steps in all
 * @param image which image of the batch (0-based)
 * @param rgb   the preview, latent width × latent height
 */
public record Preview(int step, int steps, int image, BufferedImage rgb) {
}
