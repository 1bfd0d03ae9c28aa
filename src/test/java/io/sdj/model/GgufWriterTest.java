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
