package io.sdj.cli;

import io.sdj.SdjException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InitImageTest {

    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x << 16) | (y << 8) | 7);
            }
        }
        return img;
    }

    @Test
    void sameAspectIsNotCropped() {
        BufferedImage img = gradient(200, 100);
        assertSame(img, InitImage.cropToAspect(img, 128, 64));
    }

    @Test
    void widerImageLosesItsSidesAroundTheCentre() {
        BufferedImage out = InitImage.cropToAspect(gradient(100, 50), 64, 64);
        assertEquals(50, out.getWidth());
        assertEquals(50, out.getHeight());
        assertEquals((25 << 16) | 7, out.getRGB(0, 0) & 0xffffff);
    }

    @Test
    void tallerImageLosesTopAndBottom() {
        BufferedImage out = InitImage.cropToAspect(gradient(100, 100), 128, 64);
        assertEquals(100, out.getWidth());
        assertEquals(50, out.getHeight());
        assertEquals((25 << 8) | 7, out.getRGB(0, 0) & 0xffffff);
    }

    @Test
    void greyIsReplicatedWithoutGammaConversion() {
        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 100);
        grey.getRaster().setSample(1, 0, 0, 200);
        BufferedImage rgb = InitImage.toRgb(grey);
        assertEquals(0x646464, rgb.getRGB(0, 0) & 0xffffff);
        assertEquals(0xc8c8c8, rgb.getRGB(1, 0) & 0xffffff);
    }

    @Test
    void alphaIsDropped(@TempDir Path dir) throws IOException {
        BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x10203040);
        Path f = dir.resolve("a.png");
        ImageIO.write(argb, "png", f.toFile());
        assertEquals(0x203040, InitImage.read(f).getRGB(0, 0) & 0xffffff);
    }

    @Test
    void missingOrUnreadableFilesAreNamed(@TempDir Path dir) throws IOException {
        SdjException missing = assertThrows(SdjException.class, () -> InitImage.read(dir.resolve("none.png")));
        assertTrue(missing.getMessage().contains("none.png"), missing.getMessage());
        Path text = Files.writeString(dir.resolve("text.png"), "not an image");
        SdjException bad = assertThrows(SdjException.class, () -> InitImage.read(text));
        assertTrue(bad.getMessage().contains("text.png"), bad.getMessage());
    }
}
