package io.sdj.image;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageCompareTest {

    @Test
    void identicalImagesHaveNoDifference() {
        BufferedImage a = PngInfoTest.pattern(16, 9);
        ImageCompare.Difference d = ImageCompare.compare(a, PngInfoTest.pattern(16, 9));
        assertTrue(d.identical());
        assertEquals(0.0, d.meanAbs());
        assertEquals(0, d.maxAbs());
        assertEquals(16 * 9 * 3, d.samples());
    }

    @Test
    void measuresMeanAndMaxPerSample() {
        BufferedImage a = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        BufferedImage b = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        a.setRGB(1, 0, 0x102030);
        b.setRGB(1, 0, 0x10202a); // blue differs by 6
        a.setRGB(0, 1, 0x00ff00);
        b.setRGB(0, 1, 0x00f000); // green differs by 15
        ImageCompare.Difference d = ImageCompare.compare(a, b);
        assertFalse(d.identical());
        assertEquals(21.0 / 12, d.meanAbs(), 1e-12);
        assertEquals(15, d.maxAbs());
        assertEquals(2, d.differingSamples());
        assertEquals(0, d.maxX());
        assertEquals(1, d.maxY());
        assertEquals(1, d.maxChannel());
        assertArrayEquals(new double[]{0, 15.0 / 4, 6.0 / 4}, d.channelMeanAbs(), 1e-12);
        assertEquals(2.0 / 12, d.differingFraction(), 1e-12);
    }

    @Test
    void sizesMustMatch() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> ImageCompare.compare(PngInfoTest.pattern(4, 4), PngInfoTest.pattern(4, 5)));
        assertTrue(e.getMessage().contains("expected 4x4, actual 4x5"), e.getMessage());
    }

    @Test
    void goldenImageEqualsItself() {
        var p = ImageParametersTest.golden("c01_t2i64_eulera_discrete_s2_cfg7_seed42.png");
        assertTrue(ImageCompare.compare(p, p).identical());
    }
}
