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
        assertTrue(FlashAttention.AUTO.inUnet(cpu, false));
        assertFalse(FlashAttention.AUTO.inUnet(cpu, true), "quantized attention weights keep regular attention");
        assertTrue(FlashAttention.ON.inUnet(cpu, true));
        assertFalse(FlashAttention.AUTO.inVae(), "the VAE keeps regular attention unless asked");
        assertTrue(FlashAttention.ON.inUnet(cpu, false) && FlashAttention.ON.inVae());
        assertFalse(FlashAttention.OFF.inUnet(cpu, false) || FlashAttention.OFF.inVae());
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
    void parsesItsThreeValues() {
        assertEquals(FlashAttention.AUTO, FlashAttention.parse(" Auto "));
        assertEquals(FlashAttention.OFF, FlashAttention.parse("off"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> FlashAttention.parse("yes"));
        assertEquals("flash attention", e.parameter());
    }
}
