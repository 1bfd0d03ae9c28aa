package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.family.ModelFamilies;
import io.sdj.model.GoldenModel;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.GgmlType;
import io.sdj.sampling.Prediction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same builder and requests run tiny SD 2.x- and SDXL-shaped models end to end (all family code paths). */
class FamilyPipelineTest {
    @TempDir
    Path dir;

    private StableDiffusion load(Path model, Prediction prediction, GgmlType type) {
        return StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu").threads(2)
                .prediction(prediction).weightType(type).build();
    }

    private static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    private static int[] generate(StableDiffusion sd, GenerationRequest.Builder b) {
        BufferedImage img = sd.generate(b.build()).images().getFirst().image();
        return pixels(img);
    }

    private static GenerationRequest.Builder small(String prompt) {
        return GenerationRequest.builder(prompt).size(64, 64).steps(2).seed(42);
    }

    @Test
    void sd2RunsWithItsDefaultsAndEveryClipSkip() {
        Path model = TinySd15Writer.sd2().vaeChMult(1, 1, 1, 1).write(dir.resolve("sd2.safetensors"));
        try (StableDiffusion sd = load(model, null, null)) {
            assertEquals(ModelFamilies.SD2, sd.family());
            assertEquals(Prediction.EPS, sd.prediction(), "the probe picks eps for a random model, as sd.cpp does");
            assertEquals(64, sd.spatialMultiple(), "VAE 8 × sd.cpp's U-Net factor 8");
            int[] byDefault = generate(sd, small("a lovely cat"));
            int[] skip2 = generate(sd, small("a lovely cat").clipSkip(2));
            assertTrue(Arrays.equals(byDefault, skip2), "SD 2.x's default clip skip is 2");
            // clip skip 1 uses the last layer (sd.cpp segfaults here; sdj must not)
            int[] skip1 = generate(sd, small("a lovely cat").clipSkip(1));
            assertFalse(Arrays.equals(byDefault, skip1));
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> sd.generate(small("cat").clipSkip(3).build()));
            assertTrue(e.getMessage().contains("between 1 and 2"), e.getMessage());
        }
        try (StableDiffusion v = load(model, Prediction.V, GgmlType.Q8_0)) {
            assertEquals(Prediction.V, v.prediction());
            assertEquals(64 * 64, generate(v, small("a lovely cat")).length);
        }
    }

    @Test
    void sdxlRunsWithGuidanceLongPromptsAndOddSizes() {
        Path model = TinySd15Writer.sdxl().vaeChMult(1, 1, 1, 1).write(dir.resolve("sdxl.safetensors"));
        try (StableDiffusion sd = load(model, null, null)) {
            assertEquals(ModelFamilies.SDXL, sd.family());
            assertEquals(Prediction.EPS, sd.prediction());
            assertEquals(0.13025f, sd.latentFormat().scale());
            int[] a = generate(sd, small("a lovely cat"));
            int[] neg = generate(sd, small("a lovely cat").negativePrompt("blurry"));
            assertFalse(Arrays.equals(a, neg), "the negative prompt changes the image");
            int[] cfg1 = generate(sd, small("a lovely cat").cfgScale(1));
            assertFalse(Arrays.equals(a, cfg1));
            String longPrompt = "a watercolor painting of a village ".repeat(12) + "BREAK (sunset:1.3)";
            assertEquals(64 * 64, generate(sd, small(longPrompt)).length);
            // 40 is not a multiple of 64: aligned up
            BufferedImage odd = sd.generate(small("cat").size(40, 64).build()).images().getFirst().image();
            assertEquals(64, odd.getWidth());
            assertEquals(64, odd.getHeight());
        }
    }

    @Test
    void sdxlImageToImage() {
        Path model = TinySd15Writer.sdxl().vaeChMult(1, 1, 1, 1).write(dir.resolve("sdxl.safetensors"));
        BufferedImage init = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                init.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 128);
            }
        }
        try (StableDiffusion sd = load(model, null, GgmlType.Q8_0)) {
            int[] out = generate(sd, small("a lovely cat").initImage(init).strength(0.6f).steps(4));
            assertEquals(64 * 64, out.length);
        }
    }
}
