package io.sdj.pipeline;

import java.awt.image.BufferedImage;

/**
 * One generated image.
 *
 * @param image the RGB image
 * @param seed  the seed it was made with (the request's seed + its index in the batch)
 * @param index its index in the batch
 */
public record GeneratedImage(BufferedImage image, long seed, int index) {
}
