package io.sdj.convert;

import io.sdj.InvalidParameterException;
import io.sdj.model.DType;
import io.sdj.model.GgufFile;
import io.sdj.model.GoldenModel;
import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.SafetensorsWriter;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.GgmlType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Converts ../shared/gguf/tiny_src.safetensors and compares with the files sd.cpp's converter wrote from it. */
class GgufConverterTest {

    @TempDir
    Path dir;

    private static Path fixture(String name) {
        return GoldenModel.sharedDir().resolve("gguf").resolve(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q6_K"})
    void writesTheSameBytesAsSdCpp(String type) throws IOException {
        Path out = dir.resolve("tiny_" + type + ".gguf");
        try (SafetensorsFile src = SafetensorsFile.open(fixture("tiny_src.safetensors"))) {
            GgufConverter.convert(src, out, GgmlType.fromName("--type", type));
        }
        Path expected = fixture("tiny_" + type + ".gguf");
        try (GgufFile ours = GgufFile.open(out); GgufFile theirs = GgufFile.open(expected)) {
            assertEquals(List.copyOf(theirs.tensors().keySet()), List.copyOf(ours.tensors().keySet()));
            for (TensorInfo t : theirs.tensors().values()) {
                TensorInfo o = ours.info(t.name());
                assertEquals(t.dtype(), o.dtype(), t.name());
                assertArrayEquals(t.shape(), o.shape(), t.name());
                assertEquals(t.offset(), o.offset(), t.name());
            }
        }
        assertArrayEquals(Files.readAllBytes(expected), Files.readAllBytes(out), "file bytes of " + type);
    }

    @Test
    void typeDecisionsFollowSdCppsRule() {
        assertTrue(GgufConverter.converts("model.diffusion_model.input_blocks.1.1.proj_in.weight", 320, GgmlType.Q8_0));
        assertFalse(GgufConverter.converts("model.diffusion_model.input_blocks.1.1.proj_in.bias", 320, GgmlType.Q8_0));
        assertFalse(GgufConverter.converts("model.diffusion_model.time_embed.0.weight", 320, GgmlType.Q8_0));
        assertFalse(GgufConverter.converts("model.diffusion_model.label_emb.0.0.weight", 320, GgmlType.F16));
        assertFalse(GgufConverter.converts("x.token_embedding.weight", 768, GgmlType.Q4_0));
        assertFalse(GgufConverter.converts("conv.weight", 3, GgmlType.Q4_0), "a 3-wide kernel row");
        assertTrue(GgufConverter.converts("conv.weight", 3, GgmlType.F16), "no block rule for f16");
        assertFalse(GgufConverter.converts("x.weight", 96, GgmlType.Q4_K), "96 is not a multiple of 256");
        assertTrue(GgufConverter.converts("x.weight", 96, GgmlType.Q4_0));
        assertFalse(GgufConverter.converts("x.weight", 96, null));
    }

    @Test
    void dropsUnusedTensorsNarrowsWideTypesAndKeepsTypesWithoutTarget() throws IOException {
        Path in = dir.resolve("in.safetensors");
        new SafetensorsWriter()
                .addLongs("cond_stage_model.transformer.text_model.embeddings.position_ids", new long[]{1, 3}, new long[]{0, 1, 2})
                .addLongs("ids", new long[]{3}, new long[]{5, -1, 7})
                .add("d", DType.F64, new long[]{2}, doubles(0.5, -2.25))
                .addFloats("w.weight", DType.F32, new long[]{2, 32}, new float[64])
                .addFloats("betas", DType.F32, new long[]{2}, new float[]{1, 2})
                .write(in);
        Path out = dir.resolve("out.gguf");
        try (SafetensorsFile src = SafetensorsFile.open(in)) {
            GgufConverter.Result r = GgufConverter.convert(src, out, null);
            assertEquals(3, r.tensors());
        }
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(List.of("d", "ids", "w.weight"), List.copyOf(g.tensors().keySet()));
            assertEquals(DType.I32, g.info("ids").dtype());
            assertEquals(DType.F32, g.info("d").dtype());
            assertEquals(DType.F32, g.info("w.weight").dtype());
            assertArrayEquals(new float[]{0.5f, -2.25f}, g.readFloats("d"));
        }
    }

    @Test
    void refusesTypesGgufCannotHold() throws IOException {
        Path in = dir.resolve("in.safetensors");
        new SafetensorsWriter().add("flags", DType.BOOL, new long[]{2}, new byte[]{0, 1}).write(in);
        try (SafetensorsFile src = SafetensorsFile.open(in)) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> GgufConverter.convert(src, dir.resolve("x.gguf"), GgmlType.F16));
            assertTrue(e.getMessage().contains("'flags'") && e.getMessage().contains("BOOL"), e.getMessage());
            assertThrows(InvalidParameterException.class,
                    () -> GgufConverter.convert(src, dir.resolve("x.gguf"), GgmlType.I32));
        }
    }

    @Test
    void requantizesAGgufSource() throws IOException {
        Path out = dir.resolve("re.gguf");
        try (GgufFile src = GgufFile.open(fixture("tiny_q8_0.gguf"))) {
            GgufConverter.convert(src, out, GgmlType.Q4_0);
        }
        try (GgufFile g = GgufFile.open(out)) {
            assertEquals(DType.Q4_0, g.info("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.ff.net.2.weight").dtype());
            assertEquals(DType.F16, g.info("model.diffusion_model.out.2.weight").dtype());
        }
    }

    private static byte[] doubles(double... v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }
}
