package io.sdj.pipeline;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Conversions between images and the planar float tensors the VAE uses ([W, H, 3], W fastest). */
public final class Images {
    private Images() {
    }

    /** VAE output in [-1, 1] to 8-bit RGB: (v + 1) / 2, clamped, × 255, rounded. */
    public static BufferedImage toImage(float[] px, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = width * height;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            int r = toByte(px[i]);
            int g = toByte(px[plane + i]);
            int b = toByte(px[2 * plane + i]);
            rgb[i] = (r << 16) | (g << 8) | b;
        }
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    static int toByte(float v) {
        return unitToByte((v + 1.0f) * 0.5f);
    }

    /** A value in [0, 1] (clamped) to 8 bits: × 255, rounded. */
    static int unitToByte(float v) {
        float x = Math.max(0.0f, Math.min(1.0f, v));
        return Math.round(x * 255.0f);
    }

    /** Decoder output already in [0, 1] (TAESD) to 8-bit RGB: clamped, × 255, rounded. */
    public static BufferedImage unitToImage(float[] px, int width, int height) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = width * height;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = (unitToByte(px[i]) << 16) | (unitToByte(px[plane + i]) << 8) | unitToByte(px[2 * plane + i]);
        }
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    /** An RGB image (resized to width×height if needed) to [W, H, 3] floats in [-1, 1]: v / 255 × 2 − 1. */
    public static float[] toTensor(BufferedImage image, int width, int height) {
        return planes(image, width, height, true);
    }

    /** An RGB image (resized to width×height if needed) to [W, H, 3] floats in [0, 1]: v / 255 (TAESD's input). */
    public static float[] toUnitTensor(BufferedImage image, int width, int height) {
        return planes(image, width, height, false);
    }

    private static float[] planes(BufferedImage image, int width, int height, boolean signed) {
        BufferedImage src = image;
        if (image.getWidth() != width || image.getHeight() != height) {
            src = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = src.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image, 0, 0, width, height, null);
            g.dispose();
        }
        int plane = width * height;
        float[] t = new float[3 * plane];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int p = src.getRGB(x, y);
                int i = y * width + x;
                t[i] = channel((p >> 16) & 0xff, signed);
                t[plane + i] = channel((p >> 8) & 0xff, signed);
                t[2 * plane + i] = channel(p & 0xff, signed);
            }
        }
        return t;
    }

    private static float channel(int v, boolean signed) {
        return signed ? v / 255.0f * 2.0f - 1.0f : v / 255.0f;
    }
}
