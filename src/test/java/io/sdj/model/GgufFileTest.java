package io.sdj.model;

import io.sdj.runtime.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads the GGUF files sd.cpp's converter wrote (../shared/gguf) and checks them against LISTING.txt and, element by
 * element, against the source safetensors within each type's quantization error; then feeds the reader crafted and
 * truncated headers.
 */
class GgufFileTest {

    @TempDir
    Path dir;

    @Test
    void everyFixtureMatchesItsListing() {
        Map<String, List<GgufFixtures.Listed>> listing = GgufFixtures.listing();
        assertEquals(GgufFixtures.TYPES.size(), listing.size());
        for (String type : GgufFixtures.TYPES) {
            try (GgufFile g = GgufFile.open(GgufFixtures.file(type))) {
                assertEquals(3, g.version());
                assertEquals(32, g.alignment());
                assertTrue(g.metadata().isEmpty(), "sd.cpp writes no key/values");
                List<GgufFixtures.Listed> rows = listing.get(type);
                assertEquals(rows.stream().map(GgufFixtures.Listed::name).toList(), List.copyOf(g.tensors().keySet()));
                for (GgufFixtures.Listed row : rows) {
                    TensorInfo t = g.info(row.name());
                    long[] shape = t.shape();
                    long[] reversed = new long[shape.length];
                    for (int i = 0; i < shape.length; i++) {
                        reversed[i] = shape[shape.length - 1 - i];
                    }
                    assertArrayEquals(row.ggmlDims(), reversed, row.name());
                    assertEquals(row.type(), t.dtype().name(), row.name());
                    assertEquals(g.dataStart() + row.offset(), t.offset(), row.name());
                    assertEquals(GgmlType.valueOf(t.dtype().name()).rowBytes(shape[shape.length - 1])
                            * (t.elementCount() / shape[shape.length - 1]), t.byteSize(), row.name());
                }
            }
        }
    }

    @Test
    void shapesAreTheSourceShapes() {
        try (GgufFile g = GgufFile.open(GgufFixtures.file("q8_0"));
             SafetensorsFile src = SafetensorsFile.open(GgufFixtures.source())) {
            assertEquals(src.tensors().keySet(), g.tensors().keySet());
            for (TensorInfo t : src.tensors().values()) {
                assertArrayEquals(t.shape(), g.info(t.name()).shape(), t.name());
            }
        }
    }

    @Test
    void everyTensorHasTheSourceValuesWithinItsTypesError() {
        try (SafetensorsFile src = SafetensorsFile.open(GgufFixtures.source())) {
            for (String type : GgufFixtures.TYPES) {
                try (GgufFile g = GgufFile.open(GgufFixtures.file(type))) {
                    for (TensorInfo t : g.tensors().values()) {
                        float[] expected = src.readFloats(t.name());
                        float[] actual = GgufFixtures.dequantize(g, t);
                        assertEquals(expected.length, actual.length);
                        checkValues(type, t, src.info(t.name()).dtype(), expected, actual);
                    }
                }
            }
        }
    }

    /**
     * Plain types: exactly the source value rounded to the stored type. Quantized types: each element within a
     * fraction of its block's largest magnitude (the bound each format's step size gives), and not all exact.
     */
    private static void checkValues(String file, TensorInfo t, DType srcType, float[] expected, float[] actual) {
        String where = file + " " + t.name() + " " + t.dtype();
        if (!t.dtype().isQuantized()) {
            for (int i = 0; i < expected.length; i++) {
                float e = switch (t.dtype()) {
                    case F16 -> Float.float16ToFloat(Float.floatToFloat16(expected[i]));
                    case BF16 -> {
                        assertEquals(DType.BF16, srcType, where);
                        yield expected[i];
                    }
                    default -> expected[i];
                };
                assertEquals(e, actual[i], 0f, where + " element " + i);
            }
            return;
        }
        double rel = switch (t.dtype()) {
            case Q8_0 -> 0.006;
            case Q5_0, Q5_1 -> 0.05;
            case Q4_0, Q4_1 -> 0.1;
            case Q6_K -> 0.03;
            case Q4_K -> 0.12;
            default -> throw new AssertionError("no bound for " + t.dtype());
        };
        int block = t.dtype().blockSize();
        int inexact = 0;
        for (int b = 0; b < expected.length; b += block) {
            float amax = 0;
            for (int i = b; i < b + block; i++) {
                amax = Math.max(amax, Math.abs(expected[i]));
            }
            for (int i = b; i < b + block; i++) {
                double err = Math.abs(actual[i] - expected[i]);
                assertTrue(err <= rel * amax + 1e-7, where + " element " + i + ": " + actual[i] + " vs "
                        + expected[i] + " (block max " + amax + ", bound " + rel * amax + ")");
                if (err > 0) {
                    inexact++;
                }
            }
        }
        assertTrue(inexact > 0, where + " is quantized but every element is exact");
    }

    @Test
    void readCopiesTheStoredBlocks() throws IOException {
        Path p = GgufFixtures.file("q4_0");
        byte[] file = Files.readAllBytes(p);
        try (GgufFile g = GgufFile.open(p); Arena arena = Arena.ofConfined()) {
            for (TensorInfo t : g.tensors().values()) {
                MemorySegment seg = arena.allocate(t.byteSize());
                g.read(t, seg);
                byte[] expected = java.util.Arrays.copyOfRange(file, (int) t.offset(), (int) (t.offset() + t.byteSize()));
                assertArrayEquals(expected, seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), t.name());
            }
            TensorInfo q = g.info("cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight");
            assertEquals(DType.Q4_0, q.dtype());
            assertEquals(64 * 64 / 32 * 18, q.byteSize());
            assertThrows(IllegalArgumentException.class, () -> g.read(q, arena.allocate(q.byteSize() - 1)));
            assertThrows(ModelFormatException.class, () -> g.readFloats(q.name()));
        }
    }

    // ---- crafted files ----

    /** Builds GGUF headers byte by byte. */
    static final class Raw {
        private final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Raw u32(long v) {
            b.putInt((int) v);
            return this;
        }

        Raw u64(long v) {
            b.putLong(v);
            return this;
        }

        Raw u8(int v) {
            b.put((byte) v);
            return this;
        }

        Raw str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(x.length).put(x);
            return this;
        }

        Raw bytes(byte[] x) {
            b.put(x);
            return this;
        }

        Raw header(long tensors, long kv) {
            return u32(GgufFile.MAGIC).u32(3).u64(tensors).u64(kv);
        }

        Raw tensor(String name, int type, long offset, long... ne) {
            str(name).u32(ne.length);
            for (long d : ne) {
                u64(d);
            }
            return u32(type).u64(offset);
        }

        /** Pads to 32 and appends {@code data} zero bytes. */
        Raw data(int data) {
            while (b.position() % 32 != 0) {
                b.put((byte) 0);
            }
            b.put(new byte[data]);
            return this;
        }

        byte[] build() {
            byte[] out = new byte[b.position()];
            b.duplicate().flip().get(out);
            return out;
        }
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("crafted.gguf");
        Files.write(p, bytes);
        return p;
    }

    private String refused(byte[] bytes) throws IOException {
        Path p = write(bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> GgufFile.open(p).close());
        assertEquals(p, e.file());
        return e.getMessage();
    }

    private void refusedWith(String fragment, Raw raw) throws IOException {
        String m = refused(raw.build());
        assertTrue(m.contains(fragment), "message '" + m + "' lacks '" + fragment + "'");
    }

    @Test
    void aValidCraftedFileReads() throws IOException {
        byte[] bytes = new Raw().header(2, 2).str("general.name").u32(GgufFile.T_STRING).str("tiny")
                .str("list").u32(GgufFile.T_ARRAY).u32(GgufFile.T_INT32).u64(3).u32(1).u32(-2).u32(3)
                .tensor("a", 0, 0, 4, 2).tensor("q", 8, 32, 32).data(32 + 34).build();
        try (GgufFile g = GgufFile.open(write(bytes))) {
            assertEquals(Map.of("general.name", "tiny", "list", "[1, -2, 3]"), g.metadata());
            assertArrayEquals(new long[]{2, 4}, g.info("a").shape());
            assertEquals(DType.Q8_0, g.info("q").dtype());
            assertEquals(34, g.info("q").byteSize());
        }
    }

    @Test
    void refusesBadMagicVersionsAndCounts() throws IOException {
        refusedWith("not a GGUF file", new Raw().u32(0x12345678).u32(3).u64(0).u64(0));
        refusedWith("version 1 is not supported", new Raw().u32(GgufFile.MAGIC).u32(1).u64(0).u64(0));
        refusedWith("version 4 is not supported", new Raw().u32(GgufFile.MAGIC).u32(4).u64(0).u64(0));
        refusedWith("tensor count 18446744073709551615 is not plausible", new Raw().header(-1, 0));
        refusedWith("key/value count 4294967296 is not plausible", new Raw().header(0, 1L << 32));
        refusedWith("cannot fit", new Raw().header(1000, 0));
        refusedWith("truncated", new Raw().u32(GgufFile.MAGIC));
    }

    @Test
    void refusesBadKeyValues() throws IOException {
        refusedWith("string length 9223372036854775807 exceeds", new Raw().header(0, 1).u64(Long.MAX_VALUE).data(32));
        refusedWith("duplicate key 'k'", new Raw().header(0, 2).str("k").u32(GgufFile.T_UINT8).u8(1)
                .str("k").u32(GgufFile.T_UINT8).u8(1).data(32));
        refusedWith("invalid value type 13", new Raw().header(0, 1).str("k").u32(13).data(32));
        refusedWith("arrays of arrays", new Raw().header(0, 1).str("k").u32(GgufFile.T_ARRAY).u32(GgufFile.T_ARRAY)
                .u64(1).data(32));
        refusedWith("array length", new Raw().header(0, 1).str("k").u32(GgufFile.T_ARRAY).u32(GgufFile.T_UINT8)
                .u64(-1).data(32));
        refusedWith("cannot fit", new Raw().header(0, 1).str("k").u32(GgufFile.T_ARRAY).u32(GgufFile.T_UINT64)
                .u64(1000).data(32));
        refusedWith("neither 0 nor 1", new Raw().header(0, 1).str("k").u32(GgufFile.T_BOOL).u8(2).data(32));
        refusedWith("not valid UTF-8", new Raw().header(0, 1).u64(2).bytes(new byte[]{(byte) 0xc3, 0x28})
                .u32(GgufFile.T_UINT8).u8(0).data(32));
        refusedWith("general.alignment must be a uint32", new Raw().header(0, 1).str("general.alignment")
                .u32(GgufFile.T_UINT64).u64(32).data(32));
        refusedWith("not a power of two", new Raw().header(0, 1).str("general.alignment")
                .u32(GgufFile.T_UINT32).u32(48).data(32));
        refusedWith("not a power of two", new Raw().header(0, 1).str("general.alignment")
                .u32(GgufFile.T_UINT32).u32(0).data(32));
    }

    @Test
    void refusesBadTensorInfos() throws IOException {
        refusedWith("tensor 'a': has 5 dimensions", new Raw().header(1, 0).tensor("a", 0, 0, 1, 1, 1, 1, 1).data(32));
        refusedWith("tensor 'a': dimension 1 is 18446744073709551615", new Raw().header(1, 0)
                .tensor("a", 0, 0, 4, -1).data(32));
        refusedWith("too large", new Raw().header(1, 0).tensor("a", 0, 0, 1L << 40, 1L << 40).data(32));
        refusedWith("tensor 'a': has ggml type 16 (IQ2_XXS), which sdj does not read", new Raw().header(1, 0)
                .tensor("a", 16, 0, 256).data(64));
        refusedWith("has ggml type 99, which", new Raw().header(1, 0).tensor("a", 99, 0, 4).data(64));
        refusedWith("a row of 48 elements is not a whole number of Q4_0 blocks", new Raw().header(1, 0)
                .tensor("a", 2, 0, 48, 2).data(64));
        refusedWith("not a multiple of the alignment 32", new Raw().header(1, 0).tensor("a", 0, 4, 4).data(64));
        refusedWith("duplicate tensor name", new Raw().header(2, 0).tensor("a", 0, 0, 4).tensor("a", 0, 32, 4).data(64));
        refusedWith("empty name", new Raw().header(1, 0).tensor("", 0, 0, 4).data(64));
        refusedWith("tensor 'b': data [32, 48) runs past the end", new Raw().header(2, 0).tensor("a", 0, 0, 4)
                .tensor("b", 0, 32, 4).data(20));
        refusedWith("tensor 'b': data at file offset", new Raw().header(2, 0).tensor("a", 0, 0, 16)
                .tensor("b", 0, 32, 16).data(96));
        refusedWith("runs past the end", new Raw().header(1, 0).tensor("a", 0, 0x7fffffffffffffe0L, 4).data(64));
    }

    @Test
    void everyTruncationOfARealFileIsRefused() throws IOException {
        byte[] full = Files.readAllBytes(GgufFixtures.file("q4_K"));
        try (GgufFile g = GgufFile.open(GgufFixtures.file("q4_K"))) {
            long lastEnd = 0;
            for (TensorInfo t : g.tensors().values()) {
                lastEnd = Math.max(lastEnd, t.offset() + t.byteSize());
            }
            List<Integer> cuts = new ArrayList<>();
            for (int n = 0; n < g.dataStart() + 64; n++) {
                if (n < 320 || n % 5 == 0) {
                    cuts.add(n);
                }
            }
            for (long n = lastEnd - 64; n < lastEnd; n++) {
                cuts.add((int) n);
            }
            for (int n : cuts) {
                byte[] cut = java.util.Arrays.copyOf(full, n);
                String m = refused(cut);
                assertTrue(m.contains("truncated") || m.contains("not a GGUF") || m.contains("runs past the end")
                        || m.contains("cannot fit"), n + ": " + m);
            }
        }
    }

    @Test
    void readAfterCloseAndForeignTensorsAreRefused() {
        GgufFile g = GgufFile.open(GgufFixtures.file("f16"));
        TensorInfo t = g.tensors().values().iterator().next();
        TensorInfo foreign = new TensorInfo(t.name(), t.dtype(), t.shape(), 0, t.byteSize());
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(ModelFormatException.class, () -> g.read(foreign, arena.allocate(t.byteSize())));
            g.close();
            g.close();
            assertThrows(IllegalStateException.class, () -> g.read(t, arena.allocate(t.byteSize())));
        }
    }

    @Test
    void missingFileAndDirectoryAreRefused() {
        assertTrue(assertThrows(ModelFormatException.class, () -> GgufFile.open(dir.resolve("none.gguf")))
                .getMessage().contains("file not found"));
        assertTrue(assertThrows(ModelFormatException.class, () -> GgufFile.open(dir)).getMessage()
                .contains("is a directory"));
    }

    static void forEachFixture(Consumer<Path> action) {
        for (String type : GgufFixtures.TYPES) {
            action.accept(GgufFixtures.file(type));
        }
    }
}
