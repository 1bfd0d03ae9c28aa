package io.sdj.model;

import io.sdj.runtime.GgmlType;
import io.sdj.runtime.TypeConverter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The GGUF files in ../shared/gguf that sd.cpp's converter wrote, and their LISTING.txt. */
final class GgufFixtures {
    /** The types the fixtures were written in, as sd-cli's --type spells them. */
    static final List<String> TYPES = List.of("f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q6_K");

    /** One listed tensor: name, ggml dims (innermost first), type name, data offset. */
    record Listed(String name, long[] ggmlDims, String type, long offset) {
    }

    private GgufFixtures() {
    }

    static Path dir() {
        return GoldenModel.sharedDir().resolve("gguf");
    }

    static Path file(String type) {
        return dir().resolve("tiny_" + type + ".gguf");
    }

    static Path source() {
        return dir().resolve("tiny_src.safetensors");
    }

    /** LISTING.txt's tensors per file type, in listed order. */
    static Map<String, List<Listed>> listing() {
        Map<String, List<Listed>> out = new LinkedHashMap<>();
        Pattern head = Pattern.compile("## tiny_(.+)\\.gguf");
        Pattern row = Pattern.compile("\\s+(\\S+) \\[([0-9, ]+)] (\\S+) (\\d+)");
        List<Listed> current = null;
        try {
            for (String line : Files.readAllLines(dir().resolve("LISTING.txt"))) {
                Matcher h = head.matcher(line);
                Matcher r = row.matcher(line);
                if (h.matches()) {
                    current = new ArrayList<>();
                    out.put(h.group(1), current);
                } else if (r.matches() && current != null) {
                    String[] parts = r.group(2).split(", ");
                    long[] dims = new long[parts.length];
                    for (int i = 0; i < dims.length; i++) {
                        dims[i] = Long.parseLong(parts[i]);
                    }
                    current.add(new Listed(r.group(1), dims, r.group(3), Long.parseLong(r.group(4))));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Any tensor of a source as F32 values (row-major), quantized types expanded with ggml's to_float. */
    static float[] dequantize(TensorSource src, TensorInfo t) {
        int n = Math.toIntExact(t.elementCount());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment raw = arena.allocate(Math.max(1, t.byteSize()), 64).asSlice(0, t.byteSize());
            src.read(t, raw);
            MemorySegment f32 = arena.allocate(4L * Math.max(1, n), 64);
            long row = t.rank() == 0 ? 1 : t.dim(t.rank() - 1);
            long rows = row == 0 ? 0 : n / row;
            if (n > 0) {
                TypeConverter.convert(raw, GgmlType.valueOf(t.dtype().name()), f32, GgmlType.F32, rows, row, arena);
            }
            float[] out = new float[n];
            MemorySegment.copy(f32, ValueLayout.JAVA_FLOAT, 0, out, 0, n);
            return out;
        }
    }
}
