package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.model.GoldenModel;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FlashAttention}'s choice per backend and part, and its parsing. */
class FlashAttentionTest {
    @Test
    void autoChoosesPerShape() {
        Backend cpu = Backends.get("cpu");
        assertTrue(FlashAttention.AUTO.decidesPerShape(cpu));
        assertFalse(FlashAttention.ON.decidesPerShape(cpu) || FlashAttention.OFF.decidesPerShape(cpu));
        java.util.function.LongSupplier small = () -> 1L << 20;
        assertTrue(FlashAttention.flashFor(1024, false, small), "SD 1.x at 256²: 1024 tokens");
        assertFalse(FlashAttention.flashFor(256, false, small), "128² and below keep regular attention");
        assertFalse(FlashAttention.flashFor(4096, true, small), "quantized attention weights keep regular attention");
        assertTrue(FlashAttention.flashFor(64, true, () -> FlashAttention.LARGE_GRAPH + 1), "a graph over 1 GiB");
        assertFalse(FlashAttention.AUTO.inVae(), "the VAE keeps regular attention unless asked");
        assertTrue(FlashAttention.ON.inVae());
        assertFalse(FlashAttention.OFF.inVae());
        assertEquals(FlashAttention.ON, FlashAttention.of(true));
        assertEquals(FlashAttention.OFF, FlashAttention.of(false));
        assertTrue(VaeConvolution.AUTO.decidesByMemory(cpu));
        assertFalse(VaeConvolution.IM2COL.decidesByMemory(cpu) || VaeConvolution.DIRECT.decidesByMemory(cpu));
    }

    @Test
    void theLoadedModelReportsItsChoice(@TempDir Path dir) {
        Path model = TinySd15Writer.builder().vaeChMult(1, 1, 1, 1).write(dir.resolve("tiny.safetensors")); // VAE factor 8
        GenerationRequest small = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(1).build();
        GenerationRequest large = GenerationRequest.builder("a lovely cat").size(256, 256).steps(1).seed(1).build();
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).build()) {
            sd.generate(small);
            assertFalse(sd.unetFlashAttention(), "64²: 64 tokens, regular attention");
            sd.generate(large);
            assertTrue(sd.unetFlashAttention(), "256²: 1024 tokens, flash attention");
        }
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).weightType(GgmlType.Q8_0).build()) {
            sd.generate(large);
            assertFalse(sd.unetFlashAttention(), "q8_0 attention weights: regular attention by default");
        }
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).flashAttention(false, false).build()) {
            sd.generate(large);
            assertFalse(sd.unetFlashAttention(), "explicitly off");
        }
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).flashAttention(true, false).build()) {
            sd.generate(small);
            assertTrue(sd.unetFlashAttention(), "explicitly on");
        }
    }

    @Test
    void selfAttentionLengthIsTheFirstAttentionLevelsPixels(@TempDir Path dir) throws java.io.IOException {
        try (io.sdj.model.SafetensorsFile sd1 = io.sdj.model.SafetensorsFile.open(
                TinySd15Writer.builder().write(dir.resolve("sd1.safetensors")));
             io.sdj.model.SafetensorsFile xl = io.sdj.model.SafetensorsFile.open(
                     TinySd15Writer.sdxl().write(dir.resolve("sdxl.safetensors")))) {
            io.sdj.model.UnetConfig a = io.sdj.family.ModelFamilies.SD1.configure(sd1).unet();
            io.sdj.model.UnetConfig b = io.sdj.family.ModelFamilies.SDXL.configure(xl).unet();
            assertTrue(a.hasAttention(0));
            assertEquals(32 * 32, ModelParts.selfAttentionTokens(a, 32, 32));
            assertFalse(b.hasAttention(0), "SDXL's first level has no transformer");
            assertEquals(32 * 32, ModelParts.selfAttentionTokens(b, 64, 64));
            assertEquals(8 * 5, ModelParts.selfAttentionTokens(b, 16, 9), "odd sizes round up as the U-Net does");
        }
    }

    @Test
    void aLargeRegularGraphSwitchesToFlashAttention(@TempDir Path dir) throws java.io.IOException {
        Path model = TinySd15Writer.sdxl().write(dir.resolve("sdxl.safetensors"));
        Backend cpu = Backends.get("cpu");
        try (io.sdj.model.SafetensorsFile f = io.sdj.model.SafetensorsFile.open(model)) {
            io.sdj.model.ModelConfig config = io.sdj.family.ModelFamilies.SDXL.configure(f);
            try (io.sdj.runtime.WeightStore ws = TestWeights.load(f, config, cpu, io.sdj.model.Component.UNET)) {
                int c = config.unet().inChannels();
                float[] latent = new float[8 * 8 * c];
                java.util.Arrays.fill(latent, 0.3f);
                float[] ctx = new float[config.unet().contextDim() * 77];
                java.util.Arrays.fill(ctx, 0.1f);
                io.sdj.family.Conditioning cond = new io.sdj.family.Conditioning(ctx, 77,
                        new float[config.unet().admInChannels()]);
                long[] measured = new long[1];
                try (io.sdj.family.DiffusionModel small = io.sdj.family.ModelFamilies.SDXL.diffusionModel(config, ws,
                        cpu, (w, h, bytes) -> FlashAttention.flashFor(64, false, () -> measured[0] = bytes.getAsLong()));
                     io.sdj.family.DiffusionModel large = io.sdj.family.ModelFamilies.SDXL.diffusionModel(config, ws,
                             cpu, (w, h, bytes) -> bytes.getAsLong() > 0)) {
                    float[] a = small.predict(latent, 8, 8, 500f, cond);
                    float[] b = large.predict(latent, 8, 8, 500f, cond);
                    assertFalse(((io.sdj.family.UNetRunner) small).usesFlashAttention());
                    assertTrue(measured[0] > 0, "the regular graph's compute memory was measured");
                    assertTrue(((io.sdj.family.UNetRunner) large).usesFlashAttention(), "over the threshold");
                    double max = 0;
                    for (int i = 0; i < a.length; i++) {
                        max = Math.max(max, Math.abs(a[i] - b[i]));
                    }
                    assertTrue(max < 0.05, "flash attention changes the prediction by rounding only: " + max);
                }
            }
        }
    }

    @Test
    void parsesItsThreeValues() {
        assertEquals(FlashAttention.AUTO, FlashAttention.parse(" Auto "));
        assertEquals(FlashAttention.OFF, FlashAttention.parse("off"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> FlashAttention.parse("yes"));
        assertEquals("flash attention", e.parameter());
    }
}
