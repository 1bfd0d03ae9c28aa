package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.model.ModelConfig;
import io.sdj.model.UnetConfig;
import io.sdj.model.VaeConfig;
import io.sdj.runtime.DeviceInfo;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Size limits checked before any graph is built, and the latent preview projection. */
class LimitsTest {
    static final ModelConfig SD1 = new ModelConfig(UnetConfig.SD1, VaeConfig.SD1, Map.of());
    static final DeviceInfo GPU_16G = new DeviceInfo(0, "GPU0", "test", "Test", DeviceInfo.Type.GPU, 16L << 30, 16L << 30);
    static final long HEAP_4G = 4L << 30;

    @Test
    void ordinarySizesPass() {
        assertDoesNotThrow(() -> SizeLimits.check(SD1, 512, 512, 4, true, HEAP_4G, GPU_16G));
        assertDoesNotThrow(() -> SizeLimits.check(SD1, 768, 768, 1, false, HEAP_4G, GPU_16G));
    }

    @Test
    void hugeSizesAreRefusedForComputeMemoryNamingTheWidth() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SizeLimits.check(SD1, 16384, 16384, 1, false, 1L << 40, GPU_16G));
        assertEquals("width", e.parameter());
        assertTrue(e.getMessage().contains("compute memory") && e.getMessage().contains("GPU0"), e.getMessage());
        InvalidParameterException four = assertThrows(InvalidParameterException.class,
                () -> SizeLimits.check(SD1, 4096, 4096, 1, false, 1L << 40, GPU_16G));
        assertEquals("width: 4096x4096 needs at least 2048.0 GiB of compute memory for this model; GPU0 has 16.0 GiB"
                + " (use a smaller size)", four.getMessage());
    }

    @Test
    void theJavaHeapBoundsSizeAndBatch() {
        InvalidParameterException size = assertThrows(InvalidParameterException.class,
                () -> SizeLimits.check(SD1, 4096, 4096, 1, false, 64L << 20, null));
        assertEquals("width", size.parameter());
        assertEquals("width: 4096x4096 x 1 image(s) need at least 512 MiB of Java heap; this JVM has 64 MiB (raise"
                + " -Xmx, or ask for fewer or smaller images)", size.getMessage());
        InvalidParameterException batch = assertThrows(InvalidParameterException.class,
                () -> SizeLimits.check(SD1, 1024, 1024, 256, false, 512L << 20, null));
        assertEquals("batch_count", batch.parameter());
    }

    @Test
    void estimatesSaturateInsteadOfOverflowing() {
        assertTrue(SizeLimits.computeBytes(SD1, 16384, 16384) > 0);
        assertTrue(SizeLimits.computeBytes(SD1, 512, 512) < (4L << 30));
    }

    @Test
    void hugeInitImagesAreRefusedByTheRequest() {
        BufferedImage wide = new BufferedImage(16385, 1, BufferedImage.TYPE_INT_RGB);
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> GenerationRequest.builder("x").initImage(wide).build());
        assertEquals("init_image", e.parameter());
    }

    @Test
    void previewProjectsWithTheFamilysFactors() {
        LatentPreview sd = LatentPreview.of(io.sdj.family.ModelFamilies.SD1);
        BufferedImage zero = sd.render(new float[4 * 4], 2, 2);
        assertEquals(0x7f7f7f, zero.getRGB(0, 0) & 0xffffff, "zero latent: mid grey (0.5 × 255, truncated)");
        BufferedImage xl = LatentPreview.SDXL.render(new float[4], 1, 1);
        assertEquals((141 << 16) | (125 << 8) | 127, xl.getRGB(0, 0) & 0xffffff, "SDXL's bias");
        float[] c0 = {1, 0, 0, 0};
        int rgb = sd.render(c0, 1, 1).getRGB(0, 0);
        assertEquals((int) ((0.3512f * 0.5f + 0.5f) * 255), (rgb >> 16) & 0xff);
        float[] nan = {Float.NaN, 0, 0, 0};
        assertEquals(0, sd.render(nan, 1, 1).getRGB(0, 0) & 0xffffff, "NaN is black, not an exception");
    }
}
