package io.sdj.runtime;

import io.sdj.ggml.ggml_h;
import io.sdj.ggml.ggml_to_float_t;
import io.sdj.ggml.ggml_type_traits;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Converts tensor data between ggml types with ggml's own routines (row conversion and quantization), so that
 * quantized weights are bit-identical to what stable-diffusion.cpp produces from the same source.
 *
 * <p>Quantization always passes ggml an importance matrix of ones (one weight per column), as stable-diffusion.cpp
 * does when it converts weights at load time. For Q8_0 ggml ignores it, but for Q4_0, Q4_1, Q5_0, Q5_1 and the
 * k-quants its presence switches ggml from the plain reference rounding (for Q4_0: scale = max / -8) to the
 * error-minimizing scale search, which gives different (and more accurate) blocks. {@link Rounding#PLAIN} asks for
 * the reference rounding instead: for Q4_0 about 25 times faster here, with about 5 % more RMS error.
 */
public final class TypeConverter {
    /** How quantized targets are rounded. */
    public enum Rounding {
        /** sd.cpp's: an all-ones importance matrix, ggml's error-minimizing scale search (same bytes as sd.cpp). */
        SD_CPP,
        /** ggml's reference rounding (no importance matrix): for weights sd.cpp never quantizes, where speed wins. */
        PLAIN
    }

    /** The most F32 values a conversion expands at a time (a slice of whole rows; at least one row). */
    private static final long F32_SLICE_BYTES = 8L << 20;

    private TypeConverter() {
    }

    /**
     * Converts {@code rows × rowLength} elements from {@code src} (type {@code from}) into {@code dst} (type
     * {@code to}). Plain types go through F32 where needed; quantized sources are expanded with ggml's
     * to_float; quantized targets use ggml_quantize_chunk.
     *
     * @param scratch where the temporary F32 copy goes (a confined arena, a {@link ScratchSpace})
     */
    public static void convert(MemorySegment src, GgmlType from, MemorySegment dst, GgmlType to, long rows,
                               long rowLength, SegmentAllocator scratch) {
        convert(src, from, dst, to, rows, rowLength, scratch, Rounding.SD_CPP);
    }

    /** {@link #convert(MemorySegment, GgmlType, MemorySegment, GgmlType, long, long, SegmentAllocator)} with a choice of rounding. */
    public static void convert(MemorySegment src, GgmlType from, MemorySegment dst, GgmlType to, long rows,
                               long rowLength, SegmentAllocator scratch, Rounding rounding) {
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
        if (n == 0) {
            return;
        }
        MemorySegment importance = to.isQuantized() && rounding == Rounding.SD_CPP ? unitImportance(rowLength, scratch)
                : MemorySegment.NULL;
        if (from == GgmlType.F32) {
            fromF32(src, dst, to, 0, rows, rowLength, importance);
            return;
        }
        // Through F32 a slice of rows at a time, so the temporary copy stays small: every type is converted row by
        // row (quantization block by block within a row), so the bytes are the same as in one go.
        long sliceRows = Math.max(1, Math.min(rows, F32_SLICE_BYTES / (4 * rowLength)));
        MemorySegment f32 = scratch.allocate(4 * sliceRows * rowLength, 16);
        for (long r0 = 0; r0 < rows; r0 += sliceRows) {
            long nr = Math.min(sliceRows, rows - r0);
            long count = nr * rowLength;
            MemorySegment in = src.asSlice(from.rowBytes(rowLength) * r0, from.rowBytes(rowLength) * nr);
            MemorySegment part = f32.asSlice(0, 4 * count);
            switch (from) {
                case F16 -> ggml_h.ggml_fp16_to_fp32_row(in, part, count);
                case BF16 -> ggml_h.ggml_bf16_to_fp32_row(in, part, count);
                default -> dequantize(in, from, part, count);
            }
            fromF32(part, dst, to, r0, nr, rowLength, importance);
        }
    }

    /** Rows {@code r0 .. r0+nr} of the target, from their F32 values in {@code f32}. */
    private static void fromF32(MemorySegment f32, MemorySegment dst, GgmlType to, long r0, long nr, long rowLength,
                                MemorySegment importance) {
        long count = nr * rowLength;
        MemorySegment out = dst.asSlice(to.rowBytes(rowLength) * r0, to.rowBytes(rowLength) * nr);
        switch (to) {
            case F32 -> MemorySegment.copy(f32, 0, out, 0, 4 * count);
            case F16 -> ggml_h.ggml_fp32_to_fp16_row(f32, out, count);
            case BF16 -> ggml_h.ggml_fp32_to_bf16_row(f32, out, count);
            default -> {
                if (!to.isQuantized()) {
                    throw new GgmlException("cannot convert to " + to);
                }
                ggml_h.ggml_quantize_init(to.id());
                ggml_h.ggml_quantize_chunk(to.id(), f32, out, 0, nr, rowLength, importance);
            }
        }
    }

    /** Expands a quantized source to F32 with ggml's own to_float routine for the type. */
    private static void dequantize(MemorySegment src, GgmlType from, MemorySegment f32, long n) {
        if (!from.isQuantized()) {
            throw new GgmlException("cannot convert from " + from + " (F32, F16, BF16 and quantized sources only)");
        }
        MemorySegment traits = ggml_h.ggml_get_type_traits(from.id()).reinterpret(ggml_type_traits.sizeof());
        MemorySegment toFloat = ggml_type_traits.to_float(traits);
        if (toFloat.equals(MemorySegment.NULL)) {
            throw new GgmlException("ggml has no dequantization for " + from);
        }
        ggml_to_float_t.invoke(toFloat, src, f32, n);
    }

    /**
     * The all-ones importance matrix that stable-diffusion.cpp hands to ggml_quantize_chunk: one weight per column of
     * a row, shared by all rows.
     */
    private static MemorySegment unitImportance(long rowLength, SegmentAllocator scratch) {
        float[] ones = new float[Math.toIntExact(rowLength)];
        Arrays.fill(ones, 1f);
        return scratch.allocateFrom(ValueLayout.JAVA_FLOAT, ones);
    }
}
