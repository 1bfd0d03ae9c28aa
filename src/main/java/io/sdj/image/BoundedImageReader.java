package io.sdj.image;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;

/**
 * Reads an image file (PNG, JPEG, BMP, GIF, whatever ImageIO reads) only after its header says the size is
 * acceptable: at most {@link #MAX_SIDE} pixels per side and {@link #MAX_PIXELS} pixels in all. The header is read
 * without decoding any pixels, so a crafted file that claims a huge size is refused before memory is allocated for
 * it. Every failure is an {@link ImageFormatException} naming the file.
 */
public final class BoundedImageReader {
    /** Largest width or height accepted. */
    public static final int MAX_SIDE = 16384;
    /** Largest width × height accepted (64 Mpixel). */
    public static final long MAX_PIXELS = 64L << 20;

    private BoundedImageReader() {
    }

    /** Width and height from an image file's header. */
    public record Size(int width, int height) {
    }

    /** The size the file's header gives, without decoding it. */
    public static Size probe(Path file) {
        return withReader(file, (reader, name) -> new Size(reader.getWidth(0), reader.getHeight(0)), false);
    }

    /** Decodes the file's first image after checking its header's size. */
    public static BufferedImage read(Path file) {
        return withReader(file, (reader, name) -> reader.read(0), true);
    }

    /** Refuses sizes outside the limits; {@code what} names the image in the message. */
    public static void checkSize(String what, long width, long height) {
        if (width < 1 || height < 1) {
            throw new ImageFormatException(what + ": " + width + "x" + height + " is not a valid image size");
        }
        if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
            throw new ImageFormatException(String.format(Locale.ROOT, "%s: %dx%d is too large (at most %d pixels per"
                    + " side and %d Mpixel in all)", what, width, height, MAX_SIDE, MAX_PIXELS >> 20));
        }
    }

    private interface ReaderAction<T> {
        T apply(ImageReader reader, String name) throws IOException;
    }

    private static <T> T withReader(Path file, ReaderAction<T> action, boolean decode) {
        if (!Files.isRegularFile(file)) {
            throw new ImageFormatException(Files.exists(file) ? "not a file: " + file : "image not found: " + file);
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new ImageFormatException("cannot open image " + file);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new ImageFormatException("cannot read image " + file + ": not a PNG, JPEG, BMP or GIF image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                String name = reader.getFormatName().toUpperCase(Locale.ROOT);
                checkSize("image " + file + " (" + name + ")", reader.getWidth(0), reader.getHeight(0));
                T result = action.apply(reader, name);
                if (result == null && decode) {
                    throw new ImageFormatException("cannot read image " + file + ": no image in it");
                }
                return result;
            } finally {
                reader.dispose();
            }
        } catch (ImageFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageFormatException("cannot read image " + file + ": " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new ImageFormatException("cannot read image " + file + ": out of Java heap while decoding it", e);
        }
    }
}
