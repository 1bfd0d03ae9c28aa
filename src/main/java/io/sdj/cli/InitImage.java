package io.sdj.cli;

import io.sdj.SdjException;
import io.sdj.image.BoundedImageReader;
import io.sdj.image.ImageFormatException;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads the {@code -i} image the way sd-cli does: decoded to 8-bit RGB (alpha dropped, grey replicated, 16-bit
 * samples reduced to their high byte), and, when -W and -H are both given with another aspect ratio, cropped around
 * the centre to that aspect ratio (the pipeline then scales it to W×H).
 */
public final class InitImage {

    private InitImage() {
    }

    /**
     * Reads an image file as RGB, after checking from its header (no pixels decoded) that it is at most
     * {@link BoundedImageReader#MAX_SIDE} pixels per side and {@link BoundedImageReader#MAX_PIXELS} in all.
     *
     * @throws SdjException if the file is missing, too large, or is not an image ImageIO can decode (PNG, JPEG, BMP,
     *                      GIF)
     */
    public static BufferedImage read(Path file) {
        if (!Files.exists(file)) {
            throw new SdjException("init image not found: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new SdjException("init image is not a file: " + file);
        }
        try {
            return toRgb(BoundedImageReader.read(file));
        } catch (ImageFormatException e) {
            throw new ImageFormatException("init image: " + e.getMessage(), e);
        }
    }

    /** The image as TYPE_INT_RGB with stb_image's channel conversion. */
    static BufferedImage toRgb(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        if (src.getColorModel() instanceof IndexColorModel) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    rgb.setRGB(x, y, src.getRGB(x, y) & 0xffffff);
                }
            }
            return rgb;
        }
        Raster r = src.getRaster();
        int bands = r.getNumBands();
        int bits = src.getColorModel().getComponentSize(0);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int red = to8(r.getSample(x, y, 0), bits);
                int green = bands >= 3 ? to8(r.getSample(x, y, 1), bits) : red;
                int blue = bands >= 3 ? to8(r.getSample(x, y, 2), bits) : red;
                rgb.setRGB(x, y, (red << 16) | (green << 8) | blue);
            }
        }
        return rgb;
    }

    private static int to8(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        if (bits == 16) {
            return sample >>> 8;
        }
        return (int) Math.round(sample * 255.0 / ((1 << bits) - 1));
    }

    /**
     * sd-cli's centre crop before resizing to {@code width}×{@code height}: the wider side is cut to the target
     * aspect ratio (computed in float, truncated); an image of the same aspect ratio is returned unchanged.
     */
    public static BufferedImage cropToAspect(BufferedImage img, int width, int height) {
        int w = img.getWidth();
        int h = img.getHeight();
        if (w == width && h == height) {
            return img;
        }
        float dst = (float) width / (float) height;
        float src = (float) w / (float) h;
        int cropX = 0;
        int cropY = 0;
        int cropW = w;
        int cropH = h;
        if (src > dst) {
            cropW = (int) (h * dst);
            cropX = (w - cropW) / 2;
        } else if (src < dst) {
            cropH = (int) (w / dst);
            cropY = (h - cropH) / 2;
        }
        if (cropX == 0 && cropY == 0) {
            return img;
        }
        BufferedImage out = new BufferedImage(cropW, cropH, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < cropH; y++) {
            for (int x = 0; x < cropW; x++) {
                out.setRGB(x, y, img.getRGB(cropX + x, cropY + y));
            }
        }
        return out;
    }
}
