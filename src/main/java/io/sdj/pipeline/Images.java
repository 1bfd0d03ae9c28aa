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
        float x = (v + 1.0f) * 0.5f;
        x = Math.max(0.0f, Math.min(1.0f, x));
        return Math.round(x * 255.0f);
    }

    /** An RGB image (resized to width×height if needed) to [W, H, 3] floats in [-1, 1]: v / 255 × 2 − 1. */
    public static float[] toTensor(BufferedImage image, int width, int height) {
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
                t[i] = ((p >> 16) & 0xff) / 255.0f * 2.0f - 1.0f;
                t[plane + i] = ((p >> 8) & 0xff) / 255.0f * 2.0f - 1.0f;
                t[2 * plane + i] = (p & 0xff) / 255.0f * 2.0f - 1.0f;
            }
        }
        return t;
    }
}
