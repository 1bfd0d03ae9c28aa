package io.sdj.image;

import io.sdj.InvalidParameterException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Test support: pixel differences between two images of the same size, over the R, G and B samples (alpha is ignored): mean and
 * maximum absolute difference in 8-bit levels, and how many samples differ. Used by the parity suite.
 */
public final class ImageCompare {

    private ImageCompare() {
    }

    /**
     * The result of a comparison.
     *
     * @param width            image width
     * @param height           image height
     * @param samples          compared samples (width × height × 3)
     * @param meanAbs          mean |a − b| over all samples
     * @param maxAbs           largest |a − b|
     * @param differingSamples samples with a ≠ b
     * @param maxX             x of (the first) largest difference
     * @param maxY             y of (the first) largest difference
     * @param maxChannel       channel (0 R, 1 G, 2 B) of (the first) largest difference
     * @param channelMeanAbs   mean |a − b| per channel, R, G, B
     */
    public record Difference(int width, int height, long samples, double meanAbs, int maxAbs, long differingSamples,
                             int maxX, int maxY, int maxChannel, double[] channelMeanAbs) {
        public Difference {
            channelMeanAbs = channelMeanAbs.clone();
        }

        @Override
        public double[] channelMeanAbs() {
            return channelMeanAbs.clone();
        }

        /** True when every sample is equal. */
        public boolean identical() {
            return differingSamples == 0;
        }

        /** Fraction of samples that differ. */
        public double differingFraction() {
            return samples == 0 ? 0 : (double) differingSamples / samples;
        }

        @Override
        public String toString() {
            return String.format("%dx%d: mean |d| %.4f, max |d| %d at (%d,%d,%s), %d of %d samples differ (%.2f%%)",
                    width, height, meanAbs, maxAbs, maxX, maxY, "RGB".charAt(maxChannel), differingSamples, samples,
                    100 * differingFraction());
        }
    }

    /**
     * Compares two images sample by sample.
     *
     * @throws InvalidParameterException if the sizes differ
     */
    public static Difference compare(BufferedImage expected, BufferedImage actual) {
        int w = expected.getWidth();
        int h = expected.getHeight();
        if (actual.getWidth() != w || actual.getHeight() != h) {
            throw new InvalidParameterException("image", "sizes differ: expected " + w + "x" + h + ", actual "
                    + actual.getWidth() + "x" + actual.getHeight());
        }
        long[] sum = new long[3];
        long differing = 0;
        int max = -1;
        int maxX = 0;
        int maxY = 0;
        int maxC = 0;
        int[] rowA = new int[w];
        int[] rowB = new int[w];
        for (int y = 0; y < h; y++) {
            expected.getRGB(0, y, w, 1, rowA, 0, w);
            actual.getRGB(0, y, w, 1, rowB, 0, w);
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int shift = 16 - 8 * c;
                    int d = Math.abs(((rowA[x] >>> shift) & 0xff) - ((rowB[x] >>> shift) & 0xff));
                    sum[c] += d;
                    if (d != 0) {
                        differing++;
                    }
                    if (d > max) {
                        max = d;
                        maxX = x;
                        maxY = y;
                        maxC = c;
                    }
                }
            }
        }
        long pixels = (long) w * h;
        long samples = pixels * 3;
        double[] channelMean = new double[3];
        for (int c = 0; c < 3; c++) {
            channelMean[c] = pixels == 0 ? 0 : (double) sum[c] / pixels;
        }
        double mean = samples == 0 ? 0 : (double) (sum[0] + sum[1] + sum[2]) / samples;
        return new Difference(w, h, samples, mean, Math.max(max, 0), differing, maxX, maxY, maxC, channelMean);
    }

    /** Reads two image files (any ImageIO format) and compares them. */
    public static Difference compare(Path expected, Path actual) {
        return compare(read(expected), read(actual));
    }

    /**
     * Reads an image with ImageIO.
     *
     * @throws ImageFormatException if the file cannot be read or decoded
     */
    public static BufferedImage read(Path file) {
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new ImageFormatException(file + ": not an image ImageIO can decode");
            }
            return img;
        } catch (IOException e) {
            throw new ImageFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
