package io.sdj.runtime;

import io.sdj.ggml.ggml_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Converts tensor data between ggml types with ggml's own routines (row conversion and quantization), so that
 * quantized weights are bit-identical to what other ggml programs produce from the same source.
 */
public final class TypeConverter {
    private TypeConverter() {
    }

    /**
     * Converts {@code rows × rowLength} elements from {@code src} (type {@code from}) into {@code dst} (type
     * {@code to}). Plain types go through F32 where needed; quantized targets use ggml_quantize_chunk.
     *
     * @param scratch arena for the temporary F32 copy (confined arenas are fine)
     */
    public static void convert(MemorySegment src, GgmlType from, MemorySegment dst, GgmlType to, long rows,
                               long rowLength, Arena scratch) {
        GgmlLibrary.load();
        long n = rows * rowLength;
        if (src.byteSize() < from.rowBytes(rowLength) * rows) {
            throw new GgmlException("conversion source has " + src.byteSize() + " bytes, " + n + " " + from
                    + " elements need " + from.rowBytes(rowLength) * rows);
        }
        if (dst.byteSize() < to.rowBytes(rowLength) * rows) {
            throw new GgmlException("conversion target has " + dst.byteSize() + " bytes, " + n + " " + to
                    + " elements need " + to.rowBytes(rowLength) * rows);
        }
        if (from == to) {
            MemorySegment.copy(src, 0, dst, 0, from.rowBytes(rowLength) * rows);
            return;
        }
        MemorySegment f32 = from == GgmlType.F32 ? src : scratch.allocate(4 * n, 16);
        switch (from) {
            case F32 -> { }
            case F16 -> ggml_h.ggml_fp16_to_fp32_row(src, f32, n);
            case BF16 -> ggml_h.ggml_bf16_to_fp32_row(src, f32, n);
            default -> throw new GgmlException("cannot convert from " + from + " (only F32, F16 and BF16 sources)");
        }
        switch (to) {
            case F32 -> MemorySegment.copy(f32, 0, dst, 0, 4 * n);
            case F16 -> ggml_h.ggml_fp32_to_fp16_row(f32, dst, n);
            case BF16 -> ggml_h.ggml_fp32_to_bf16_row(f32, dst, n);
            default -> {
                if (!to.isQuantized()) {
                    throw new GgmlException("cannot convert to " + to);
                }
                if (ggml_h.ggml_quantize_requires_imatrix(to.id())) {
                    throw new GgmlException(to + " needs an importance matrix, which sdj does not provide");
                }
                ggml_h.ggml_quantize_init(to.id());
                ggml_h.ggml_quantize_chunk(to.id(), f32, dst, 0, rows, rowLength, MemorySegment.NULL);
            }
        }
    }
}
