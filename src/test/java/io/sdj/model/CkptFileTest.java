package io.sdj.model;

import io.sdj.model.pickle.DisallowedGlobalException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the checkpoints real PyTorch wrote (../shared/ckpt) and checks every value against EXPECTED.tsv and the formula. */
class CkptFileTest {

    record Expected(String name, DType dtype, long[] shape, double[] first4, double sum) {
    }

    static Path dir() {
        return GoldenModel.sharedDir().resolve("ckpt");
    }

    static List<Expected> expected() throws IOException {
        List<Expected> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(dir().resolve("EXPECTED.tsv"));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t");
            DType dt = switch (f[1]) {
                case "float16" -> DType.F16;
                case "float32" -> DType.F32;
                case "bfloat16" -> DType.BF16;
                case "int64" -> DType.I64;
                default -> throw new AssertionError(f[1]);
            };
            out.add(new Expected(f[0], dt, numbers(f[2]).stream().mapToLong(Double::longValue).toArray(),
                    numbers(f[3]).stream().mapToDouble(Double::doubleValue).toArray(), Double.parseDouble(f[4])));
        }
        return out;
    }

    private static List<Double> numbers(String list) {
        List<Double> out = new ArrayList<>();
        for (String p : list.replace("[", "").replace("]", "").split(",")) {
            out.add(Double.parseDouble(p.trim()));
        }
        return out;
    }

    /** Every element as a double, read through {@link TensorSource#read}. */
    static double[] values(TensorSource src, TensorInfo t) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, t.byteSize()), 8).asSlice(0, t.byteSize());
            src.read(t, seg);
            int n = Math.toIntExact(t.elementCount());
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                out[i] = switch (t.dtype()) {
                    case F32 -> seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                    case F16 -> Float.float16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
                    case BF16 -> Float.intBitsToFloat((seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i) & 0xffff) << 16);
                    case I64 -> seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                    default -> throw new AssertionError(t.dtype());
                };
            }
            return out;
        }
    }

    /** sin(0.37 i + k) * scale in float32, then rounded to the stored type (round to nearest even). */
    private static float formula(int i, int k, double scale, DType dt) {
        float f = (float) (Math.sin(0.37 * i + k) * scale);
        return switch (dt) {
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(f));
            case BF16 -> Float.intBitsToFloat((SafetensorsWriter.toBf16(f) & 0xffff) << 16);
            default -> f;
        };
    }

    /** The formula's value of each tensor's element i (row-major), where the fixture script defines it. */
    private static Float formulaValue(String name, int i, DType dt) {
        return switch (name) {
            case "model.diffusion_model.input_blocks.0.0.weight" -> formula(i, 6, 0.1, dt);
            case "model.diffusion_model.input_blocks.0.0.bias" -> formula(i, 7, 0.01, dt);
            case "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight" -> formula(i, 8, 0.1, dt);
            case "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight" -> formula(i, 10, 0.1, dt);
            case "first_stage_model.decoder.conv_out.weight" -> formula(i, 4, 0.05, dt);
            // big = t([16, 8], 12, 0.5); out.2 = big.t() is [8, 16]: element (r, c) = big[c][r]
            case "model.diffusion_model.out.2.weight" -> formula((i % 16) * 8 + i / 16, 12, 0.5, dt);
            // time_embed.0 = big[2:6, 1:5]: element (r, c) = big[2 + r][1 + c]
            case "model.diffusion_model.time_embed.0.weight" -> formula((2 + i / 4) * 8 + 1 + i % 4, 12, 0.5, dt);
            case "cond_stage_model.transformer.text_model.embeddings.position_ids" -> (float) i;
            default -> null;
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_zip.ckpt", "tiny_legacy.ckpt", "tiny_bare_state_dict.pt"})
    void readsWhatPyTorchReadsBack(String file) throws IOException {
        List<Expected> expected = expected();
        try (CkptFile ck = CkptFile.open(dir().resolve(file))) {
            assertEquals(file.contains("legacy") ? CkptFile.Format.LEGACY : CkptFile.Format.ZIP, ck.format());
            assertEquals(expected.stream().map(Expected::name).toList(), List.copyOf(ck.tensors().keySet()));
            for (Expected e : expected) {
                TensorInfo t = ck.info(e.name());
                assertEquals(e.dtype(), t.dtype(), e.name());
                assertArrayEquals(e.shape(), t.shape(), e.name());
                double[] v = values(ck, t);
                for (int i = 0; i < 4; i++) {
                    assertEquals(e.first4()[i], v[i], 0.0, e.name() + " element " + i);
                }
                double sum = 0;
                for (double x : v) {
                    sum += x;
                }
                assertEquals(e.sum(), sum, Math.abs(e.sum()) * 1e-9 + 1e-9, e.name() + " sum");
                for (int i = 0; i < v.length; i++) {
                    Float f = formulaValue(e.name(), i, e.dtype());
                    if (f != null) {
                        // F32: one ulp for libm differences in sin; F16 and BF16 round that to the same value
                        assertEquals(f, v[i], e.dtype() == DType.F32 ? Math.ulp(f) : 0.0,
                                e.name() + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void viewsShareTheirStorage() {
        try (CkptFile ck = CkptFile.open(dir().resolve("tiny_zip.ckpt"));
             CkptFile legacy = CkptFile.open(dir().resolve("tiny_legacy.ckpt"))) {
            TensorInfo t = ck.info("model.diffusion_model.out.2.weight");
            TensorInfo v = ck.info("model.diffusion_model.time_embed.0.weight");
            assertEquals(8 * 16 * 4, t.byteSize());
            assertEquals(16 * 4, v.byteSize());
            assertEquals(t.offset() + (2 * 8 + 1) * 4, v.offset(), "big[2:6, 1:5] starts 17 elements in");
            assertArrayEquals(ck.readFloats(v.name()), legacy.readFloats(v.name()));
        }
    }

    @Test
    void theHostilePickleIsRefusedByName() {
        Path p = dir().resolve("hostile_reduce_os_system.ckpt");
        DisallowedGlobalException e = assertThrows(DisallowedGlobalException.class, () -> CkptFile.open(p));
        assertEquals("posix.system", e.global());
        assertTrue(e.getMessage().contains("'posix.system'") && e.getMessage().contains(p.toString()), e.getMessage());
        assertFalse(Files.exists(Path.of("/tmp/sdj-pwned")), "nothing ran");
        assertThrows(DisallowedGlobalException.class, () -> TensorSources.open(p));
    }

    @Test
    void contentDecidesTheForm() {
        assertEquals(TensorSources.Form.PYTORCH_ZIP, TensorSources.detect(dir().resolve("tiny_zip.ckpt")));
        assertEquals(TensorSources.Form.PYTORCH_ZIP, TensorSources.detect(dir().resolve("tiny_bare_state_dict.pt")));
        assertEquals(TensorSources.Form.PYTORCH_LEGACY, TensorSources.detect(dir().resolve("tiny_legacy.ckpt")));
        try (TensorSource s = TensorSources.open(dir().resolve("tiny_legacy.ckpt"))) {
            assertTrue(s instanceof CkptFile);
            assertEquals(9, s.tensors().size());
        }
    }
}
