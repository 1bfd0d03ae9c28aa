package io.sdj.model;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Slow: generates (once) and opens the 2.1 GB golden checkpoint. */
@Tag("slow")
class GoldenCheckpointTest {

    private static int f16(SafetensorsFile f, String name, long index) {
        return f.data(name).getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index) & 0xffff;
    }

    @Test
    void goldenCheckpointIsSd15WithThePublishedTestVectors() {
        Path p = GoldenModel.path();
        assertTrue(GoldenCheckpoint.isVerified(p));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(io.sdj.family.ModelFamilies.SD1, io.sdj.family.ModelFamilies.detect(f));
            assertEquals(new ModelConfig(UnetConfig.SD1, VaeConfig.SD1,
                    java.util.Map.of(io.sdj.family.Sd1Family.CLIP, ClipTextConfig.SD1)), io.sdj.family.ModelFamilies.SD1.configure(f));
            assertEquals(1145, f.tensors().size());
            assertEquals(156_008, f.dataStart() - 8);
            assertEquals(GoldenCheckpoint.SIZE, f.fileSize());
            assertEquals(java.util.Map.of("format", "pt", "generator", "RandomSd15.java spec v1", "seed", "1"),
                    f.metadata());
            assertEquals(0x32f5, f16(f, "model.diffusion_model.input_blocks.0.0.weight", 0));
            assertEquals(0xb321, f16(f, "model.diffusion_model.input_blocks.0.0.weight", 11519));
            assertEquals(0x3ba2, f16(f, "model.diffusion_model.out.0.weight", 0));
            assertEquals(0xa335, f16(f, "model.diffusion_model.out.2.bias", 3));
            assertEquals(0xa826, f16(f, "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", 37945343));
            assertEquals(0xa2f7, f16(f, "first_stage_model.decoder.conv_out.weight", 0));
            float[] ac = f.readFloats(LdmLayout.ALPHAS_CUMPROD);
            assertEquals(0x3bfe, Float.floatToFloat16(ac[0]) & 0xffff);
            assertEquals(0x1cc6, Float.floatToFloat16(ac[999]) & 0xffff);
            assertEquals(java.util.List.of(), LdmLayout.validate(p, f.tensors(), io.sdj.family.ModelFamilies.SD1.configure(f),
                    "SD 1.x", io.sdj.family.Sd1Family.POSITION_IDS::equals).ignored());
        }
    }
}
