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
    void autoIsFlashInTheUnetOnTheCpuOnly() {
        Backend cpu = Backends.get("cpu");
        assertTrue(FlashAttention.AUTO.inUnet(cpu, false, true));
        assertFalse(FlashAttention.AUTO.inUnet(cpu, true, true), "quantized attention weights keep regular attention");
        assertFalse(FlashAttention.AUTO.inUnet(cpu, false, false), "a family not known to stay within the bound");
        assertTrue(FlashAttention.AUTO.switchesLargeGraphs(cpu));
        assertFalse(FlashAttention.OFF.switchesLargeGraphs(cpu) || FlashAttention.ON.switchesLargeGraphs(cpu));
        assertTrue(FlashAttention.ON.inUnet(cpu, true, false));
        assertFalse(FlashAttention.AUTO.inVae(), "the VAE keeps regular attention unless asked");
        assertTrue(FlashAttention.ON.inUnet(cpu, false, false) && FlashAttention.ON.inVae());
        assertFalse(FlashAttention.OFF.inUnet(cpu, false, true) || FlashAttention.OFF.inVae());
        assertEquals(FlashAttention.ON, FlashAttention.of(true));
        assertEquals(FlashAttention.OFF, FlashAttention.of(false));
        assertTrue(VaeConvolution.AUTO.decidesByMemory(cpu));
        assertFalse(VaeConvolution.IM2COL.decidesByMemory(cpu) || VaeConvolution.DIRECT.decidesByMemory(cpu));
    }

    @Test
    void theLoadedModelReportsItsChoice(@TempDir Path dir) {
        Path model = TinySd15Writer.builder().write(dir.resolve("tiny.safetensors"));
        GenerationRequest req = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(1).build();
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).build()) {
            sd.generate(req);
            assertTrue(sd.unetFlashAttention(), "F16 weights on the CPU: flash attention by default");
        }
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).weightType(GgmlType.Q8_0).build()) {
            sd.generate(req);
            assertFalse(sd.unetFlashAttention(), "q8_0 attention weights: regular attention by default");
        }
        try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                .backend("cpu").threads(2).flashAttention(false, false).build()) {
            sd.generate(req);
            assertFalse(sd.unetFlashAttention(), "explicitly off");
        }
    }

    @Test
    void sd2AndSdxlKeepRegularAttentionAtSmallSizes(@TempDir Path dir) {
        GenerationRequest req = GenerationRequest.builder("a lovely cat").size(64, 64).steps(1).seed(1).build();
        for (Path model : new Path[]{TinySd15Writer.sd2().write(dir.resolve("sd2.safetensors")),
                TinySd15Writer.sdxl().write(dir.resolve("sdxl.safetensors"))}) {
            try (StableDiffusion sd = StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges())
                    .backend("cpu").threads(2).build()) {
                sd.generate(req);
                assertFalse(sd.unetFlashAttention(), model.getFileName() + ": flash attention is not within the "
                        + "bound for this family, and the graph is small");
            }
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
                try (io.sdj.family.DiffusionModel small = io.sdj.family.ModelFamilies.SDXL.diffusionModel(config, ws,
                        cpu, Long.MAX_VALUE);
                     io.sdj.family.DiffusionModel large = io.sdj.family.ModelFamilies.SDXL.diffusionModel(config, ws,
                             cpu, 0L)) {
                    float[] a = small.predict(latent, 8, 8, 500f, cond);
                    float[] b = large.predict(latent, 8, 8, 500f, cond);
                    assertFalse(((io.sdj.family.UNetRunner) small).usesFlashAttention());
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
