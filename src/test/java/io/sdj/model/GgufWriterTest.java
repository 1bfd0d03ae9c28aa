package io.sdj.model;

import io.sdj.InvalidParameterException;
import io.sdj.ggml.ggml_h;
import io.sdj.ggml.gguf_init_params;
import io.sdj.runtime.GgmlLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GgufWriter's files as ggml's own GGUF reader and sdj's GgufFile see them. */
class GgufWriterTest {

    @TempDir
    Path dir;

    private Path sample(int alignment) {
        byte[] q = new byte[2 * 34];
        q[0] = 0x3c; // a scale of 1.0 (f16 0x3c00), little-endian: low byte 0x00, high 0x3c
        q[1] = 0x3c;
        Path p = dir.resolve("w" + alignment + ".gguf");
        new GgufWriter().alignment(alignment)
                .putString("general.name", "sdj test").putU32("n", 7).putI32("i", -3).putF32("f", 0.5f)
                .putBool("b", true)
                .add("w.weight", DType.Q8_0, new long[]{2, 32}, q)
                .add("b.bias", DType.F32, new long[]{3}, new byte[12])
                .add("k", DType.F16, new long[]{1, 1, 2, 2}, new byte[8])
                .write(p);
        return p;
    }

    @Test
    void ggmlReadsItsKeyValuesTensorsAndOffsets() {
        GgmlLibrary.load();
        for (int alignment : new int[]{32, 64}) {
            Path p = sample(alignment);
            try (Arena arena = Arena.ofConfined(); GgufFile ours = GgufFile.open(p)) {
                MemorySegment params = arena.allocate(gguf_init_params.layout());
                gguf_init_params.no_alloc(params, true);
                gguf_init_params.ctx(params, MemorySegment.NULL);
                MemorySegment ctx = ggml_h.gguf_init_from_file(arena.allocateFrom(p.toString()), params);
                assertNotEquals(MemorySegment.NULL, ctx, "ggml refused the file");
                try {
                    assertEquals(alignment, ggml_h.gguf_get_alignment(ctx));
                    assertEquals(alignment == 32 ? 5 : 6, ggml_h.gguf_get_n_kv(ctx));
                    assertEquals("sdj test", ggml_h.gguf_get_val_str(ctx,
                            ggml_h.gguf_find_key(ctx, arena.allocateFrom("general.name"))).reinterpret(64).getString(0));
                    assertEquals(7, ggml_h.gguf_get_val_u32(ctx, ggml_h.gguf_find_key(ctx, arena.allocateFrom("n"))));
                    assertEquals(0.5f, ggml_h.gguf_get_val_f32(ctx, ggml_h.gguf_find_key(ctx, arena.allocateFrom("f"))));
                    assertTrue(ggml_h.gguf_get_val_bool(ctx, ggml_h.gguf_find_key(ctx, arena.allocateFrom("b"))));
                    assertEquals(3, ggml_h.gguf_get_n_tensors(ctx));
                    assertEquals(ours.dataStart(), ggml_h.gguf_get_data_offset(ctx));
                    int i = 0;
                    for (TensorInfo t : ours.tensors().values()) {
                        assertEquals(t.name(), ggml_h.gguf_get_tensor_name(ctx, i).reinterpret(256).getString(0));
                        assertEquals(t.dtype().ggmlId(), ggml_h.gguf_get_tensor_type(ctx, i));
                        assertEquals(t.offset() - ours.dataStart(), ggml_h.gguf_get_tensor_offset(ctx, i));
                        i++;
                    }
                } finally {
                    ggml_h.gguf_free(ctx);
                }
                assertEquals(Map.of("general.name", "sdj test", "n", "7", "i", "-3", "f", "0.5", "b", "true"),
                        withoutAlignment(ours.metadata()));
                assertArrayEquals(new long[]{2, 2}, ours.info("k").shape(), "ggml_n_dims drops the outer 1s");
                assertEquals(0, ours.dataStart() % alignment);
            }
        }
    }

    /** A file ggml's own writer made, with every scalar type and arrays, as GgufFile renders it. */
    @Test
    void readsEveryValueTypeGgmlWrites() {
        GgmlLibrary.load();
        Path p = dir.resolve("ggml.gguf");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctx = ggml_h.gguf_init_empty();
            try {
                ggml_h.gguf_set_val_u8(ctx, arena.allocateFrom("u8"), (byte) 200);
                ggml_h.gguf_set_val_i8(ctx, arena.allocateFrom("i8"), (byte) -5);
                ggml_h.gguf_set_val_u16(ctx, arena.allocateFrom("u16"), (short) 60000);
                ggml_h.gguf_set_val_i16(ctx, arena.allocateFrom("i16"), (short) -300);
                ggml_h.gguf_set_val_u32(ctx, arena.allocateFrom("u32"), -1);
                ggml_h.gguf_set_val_i32(ctx, arena.allocateFrom("i32"), -70000);
                ggml_h.gguf_set_val_f32(ctx, arena.allocateFrom("f32"), 1.5f);
                ggml_h.gguf_set_val_u64(ctx, arena.allocateFrom("u64"), -1L);
                ggml_h.gguf_set_val_i64(ctx, arena.allocateFrom("i64"), Long.MIN_VALUE);
                ggml_h.gguf_set_val_f64(ctx, arena.allocateFrom("f64"), 0.25);
                ggml_h.gguf_set_val_bool(ctx, arena.allocateFrom("bool"), false);
                ggml_h.gguf_set_val_str(ctx, arena.allocateFrom("str"), arena.allocateFrom("ünï \"q\""));
                MemorySegment ints = arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, 1, -2, 3);
                ggml_h.gguf_set_arr_data(ctx, arena.allocateFrom("ints"), GgufFile.T_INT32, ints, 3);
                MemorySegment strs = arena.allocate(java.lang.foreign.ValueLayout.ADDRESS, 2);
                strs.setAtIndex(java.lang.foreign.ValueLayout.ADDRESS, 0, arena.allocateFrom("a"));
                strs.setAtIndex(java.lang.foreign.ValueLayout.ADDRESS, 1, arena.allocateFrom("b\"c"));
                ggml_h.gguf_set_arr_str(ctx, arena.allocateFrom("strs"), strs, 2);
                MemorySegment many = arena.allocate(300);
                ggml_h.gguf_set_arr_data(ctx, arena.allocateFrom("many"), GgufFile.T_UINT8, many, 300);
                assertTrue(ggml_h.gguf_write_to_file(ctx, arena.allocateFrom(p.toString()), true));
            } finally {
                ggml_h.gguf_free(ctx);
            }
        }
        try (GgufFile g = GgufFile.open(p)) {
            Map<String, String> m = g.metadata();
            assertEquals("200", m.get("u8"));
            assertEquals("-5", m.get("i8"));
            assertEquals("60000", m.get("u16"));
            assertEquals("-300", m.get("i16"));
            assertEquals("4294967295", m.get("u32"));
            assertEquals("-70000", m.get("i32"));
            assertEquals("1.5", m.get("f32"));
            assertEquals("18446744073709551615", m.get("u64"));
            assertEquals(Long.toString(Long.MIN_VALUE), m.get("i64"));
            assertEquals("0.25", m.get("f64"));
            assertEquals("false", m.get("bool"));
            assertEquals("ünï \"q\"", m.get("str"));
            assertEquals("[1, -2, 3]", m.get("ints"));
            assertEquals("[\"a\", \"b\\\"c\"]", m.get("strs"));
            assertTrue(m.get("many").startsWith("[0, 0, ") && m.get("many").endsWith(", ... (300 elements)]"),
                    m.get("many"));
            assertEquals(15, m.size());
            assertTrue(g.tensors().isEmpty());
        }
    }

    private static Map<String, String> withoutAlignment(Map<String, String> m) {
        Map<String, String> out = new java.util.HashMap<>(m);
        out.remove(GgufFile.ALIGNMENT_KEY);
        return out;
    }

    @Test
    void refusesWhatGgufCannotHold() {
        GgufWriter w = new GgufWriter();
        assertThrows(InvalidParameterException.class, () -> w.add("a", DType.BOOL, new long[]{2}, new byte[2]));
        assertThrows(InvalidParameterException.class, () -> w.add("a", DType.Q4_0, new long[]{2, 48}, d -> { }));
        assertThrows(InvalidParameterException.class, () -> w.add("a", DType.F32, new long[]{1, 1, 1, 1, 1}, d -> { }));
        assertThrows(InvalidParameterException.class, () -> w.add("", DType.F32, new long[]{1}, d -> { }));
        assertThrows(InvalidParameterException.class, () -> w.alignment(48));
        assertThrows(InvalidParameterException.class, () -> w.putU32(GgufFile.ALIGNMENT_KEY, 64));
        w.add("a", DType.F32, new long[]{1}, new byte[4]);
        assertThrows(InvalidParameterException.class, () -> w.add("a", DType.F32, new long[]{1}, new byte[4]));
        assertThrows(InvalidParameterException.class, () -> w.add("b", DType.F32, new long[]{2}, new byte[4]));
    }

    @Test
    void aFailingTensorLeavesNoFile() {
        Path p = dir.resolve("partial.gguf");
        GgufWriter w = new GgufWriter().add("a", DType.F32, new long[]{4}, d -> {
            throw new ModelFormatException(p, "a", "source unreadable");
        });
        assertThrows(ModelFormatException.class, () -> w.write(p));
        assertFalse(Files.exists(p));
    }
}
