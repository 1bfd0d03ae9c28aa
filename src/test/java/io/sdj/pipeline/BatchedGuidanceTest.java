package io.sdj.pipeline;

import io.sdj.family.Conditioning;
import io.sdj.family.DiffusionModel;
import io.sdj.family.GuidanceBatching;
import io.sdj.family.ModelFamilies;
import io.sdj.family.ModelFamily;
import io.sdj.family.UNetRunner;
import io.sdj.model.GoldenModel;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.Backend;
import io.sdj.runtime.WeightStore;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Classifier-free guidance as one batch of two gives the same predictions, bit for bit, as two passes: on the tiny
 * SD 1.x, SD 2.x and SDXL models, for equal token counts (batched) and unequal ones (two passes either way).
 */
class BatchedGuidanceTest {
    @TempDir
    Path dir;

    private static TinySd15Writer.Builder family(String name) {
        return switch (name) {
            case "sd1" -> TinySd15Writer.builder();
            case "sd2" -> TinySd15Writer.sd2();
            case "sdxl" -> TinySd15Writer.sdxl();
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static Conditioning conditioning(Random r, int dim, int tokens, int adm) {
        return new Conditioning(random(r, dim * tokens), tokens, adm > 0 ? random(r, adm) : null);
    }

    /**
     * With ggml's own kernels the batch of two gives the two passes' predictions bit for bit; with a BLAS partner
     * (sgemm blocks by row count) within float rounding, and AUTO then takes the batch.
     */
    @ParameterizedTest
    @CsvSource({"sd1,false", "sd2,false", "sdxl,false", "sd1,true", "sdxl,true"})
    void batchedPredictionsEqualTwoPasses(String name, boolean blas) {
        Path file = family(name).write(dir.resolve(name + ".safetensors"));
        try (SafetensorsFile src = SafetensorsFile.open(file); Backend be = Backend.open("cpu", blas)) {
            assumeTrue(be.hasBlas() == blas, "the runtime has no BLAS backend");
            be.setThreads(2);
            float tol = blas ? 1e-3f : 0f; // BLAS: rounding differences carried through the layers
            ModelFamily fam = ModelFamilies.detect(src);
            ModelConfig config = fam.configure(src);
            try (WeightStore ws = WeightLoader.load(src, LdmLayout.expectedTensors(config).keySet(),
                    config.components(), be, fam.weightTypes(null), name, (d, t) -> { });
                 DiffusionModel dm = fam.diffusionModel(config, ws, be, io.sdj.nn.Attention.REGULAR)) {
                UNetRunner unet = (UNetRunner) dm;
                int dim = unet.contextDim();
                int adm = config.unet().admInChannels();
                int w = 16;
                int h = 8;
                Random r = new Random(7);
                float[] latent = random(r, w * h * unet.inChannels());
                Conditioning cond = conditioning(r, dim, 77, adm);
                Conditioning uncond = conditioning(r, dim, 77, adm);

                unet.guidanceBatching(GuidanceBatching.TWO_PASS);
                float[][] twoPass = unet.predictGuided(latent, w, h, 500.5f, cond, uncond);
                float[] single = unet.predict(latent, w, h, 500.5f, cond);
                assertArrayEquals(single, twoPass[0], 0f, "two passes are two predict calls");

                unet.guidanceBatching(GuidanceBatching.BATCHED);
                int builds = unet.graphBuilds();
                float[][] batched = unet.predictGuided(latent, w, h, 500.5f, cond, uncond);
                float[][] again = unet.predictGuided(latent, w, h, 321f, cond, uncond);
                assertEquals(builds + 1, unet.graphBuilds(), "one batch-of-two graph, reused across steps");
                assertArrayEquals(twoPass[0], batched[0], tol, name + ": cond, batched vs two passes");
                assertArrayEquals(twoPass[1], batched[1], tol, name + ": uncond, batched vs two passes");
                assertTrue(maxDiff(batched[0], batched[1]) > 1e-3, "cond and uncond differ");
                assertTrue(maxDiff(batched[0], again[0]) > 1e-4, "the timestep reaches the batched graph");

                // AUTO on the CPU backend: two passes through the batch-of-one graph; with BLAS, the batch of two
                unet.guidanceBatching(GuidanceBatching.AUTO);
                unet.predict(latent, w, h, 500.5f, cond);
                int singleBuilds = unet.graphBuilds();
                float[][] auto = unet.predictGuided(latent, w, h, 500.5f, cond, uncond);
                assertEquals(singleBuilds + (blas ? 1 : 0), unet.graphBuilds(),
                        blas ? "AUTO with BLAS builds the batch-of-two graph" : "AUTO on the CPU reuses the batch-of-one graph");
                assertArrayEquals(twoPass[1], auto[1], tol);
                unet.guidanceBatching(GuidanceBatching.BATCHED);

                // Different token counts: no padding leaves the shorter one's prediction unchanged, so two passes.
                Conditioning longer = conditioning(r, dim, 154, adm);
                float[][] mixed = unet.predictGuided(latent, w, h, 500.5f, longer, uncond);
                unet.guidanceBatching(GuidanceBatching.TWO_PASS);
                float[][] mixedTwoPass = unet.predictGuided(latent, w, h, 500.5f, longer, uncond);
                assertArrayEquals(mixedTwoPass[0], mixed[0], 0f);
                assertArrayEquals(mixedTwoPass[1], mixed[1], 0f);
                assertArrayEquals(twoPass[1], mixed[1], 0f, "uncond does not depend on the other prompt");
            }
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void modesParseAndBadNamesAreRefused() {
        assertEquals(GuidanceBatching.TWO_PASS, GuidanceBatching.parse("two-pass"));
        assertEquals(GuidanceBatching.BATCHED, GuidanceBatching.parse(" Batched "));
        io.sdj.InvalidParameterException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.sdj.InvalidParameterException.class, () -> GuidanceBatching.parse("sometimes"));
        assertTrue(e.getMessage().contains("sometimes"), e.getMessage());
    }

    @Test
    void imagesAreIdenticalWithAndWithoutBatching() {
        Path file = dir.resolve("tiny.safetensors");
        TinySd15Writer.writeDefault(file);
        GenerationRequest req = GenerationRequest.builder("a lovely cat").negativePrompt("blurry").size(64, 64)
                .steps(3).seed(42).cfgScale(7f).build();
        int[][] images = new int[2][];
        GuidanceBatching[] modes = {GuidanceBatching.TWO_PASS, GuidanceBatching.BATCHED};
        for (int i = 0; i < 2; i++) {
            try (StableDiffusion sd = StableDiffusion.builder().model(file).tokenizer(GoldenModel.merges())
                    .backend("cpu").blas(false).threads(2).guidanceBatching(modes[i]).build()) {
                BufferedImage img = sd.generate(req).images().getFirst().image();
                images[i] = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
            }
        }
        assertArrayEquals(images[0], images[1], "batched guidance leaves the image unchanged");
    }
}
