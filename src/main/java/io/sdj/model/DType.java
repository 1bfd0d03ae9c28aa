package io.sdj.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Stored element types of tensor files: the plain types a safetensors header may declare, and ggml's block-quantized
 * types that GGUF files hold. Each constant that ggml also has carries the same name as {@code io.sdj.runtime.GgmlType}
 * and ggml's numeric id, so {@code GgmlType.valueOf(dtype.name())} maps a stored type to its ggml type.
 *
 * <p>A quantized type stores a row in blocks of {@link #blockSize()} elements, {@link #bytesPerBlock()} bytes each;
 * plain types have blocks of one element. Use {@link #rowBytes(long)} and {@link #storageBytes(long[])} for sizes;
 * {@link #byteSize()} (bytes per element) only exists for plain types.
 */
public enum DType {
    F64(8, 1, 28, true),
    F32(4, 1, 0, true),
    F16(2, 1, 1, true),
    BF16(2, 1, 30, true),
    I64(8, 1, 27, true),
    I32(4, 1, 26, true),
    I16(2, 1, 25, true),
    I8(1, 1, 24, true),
    U8(1, 1, -1, true),
    BOOL(1, 1, -1, true),
    Q4_0(18, 32, 2, false),
    Q4_1(20, 32, 3, false),
    Q5_0(22, 32, 6, false),
    Q5_1(24, 32, 7, false),
    Q8_0(34, 32, 8, false),
    Q2_K(84, 256, 10, false),
    Q3_K(110, 256, 11, false),
    Q4_K(144, 256, 12, false),
    Q5_K(176, 256, 13, false),
    Q6_K(210, 256, 14, false);

    private final int bytesPerBlock;
    private final int blockSize;
    private final int ggmlId;
    private final boolean safetensors;

    DType(int bytesPerBlock, int blockSize, int ggmlId, boolean safetensors) {
        this.bytesPerBlock = bytesPerBlock;
        this.blockSize = blockSize;
        this.ggmlId = ggmlId;
        this.safetensors = safetensors;
    }

    /**
     * Bytes per element of a plain (not block-quantized) type.
     *
     * @throws IllegalStateException for a quantized type, whose elements have no whole byte size (use
     *                               {@link #rowBytes(long)})
     */
    public int byteSize() {
        if (isQuantized()) {
            throw new IllegalStateException(name() + " is block-quantized (" + blockSize + " elements in "
                    + bytesPerBlock + " bytes); it has no per-element byte size");
        }
        return bytesPerBlock;
    }

    /** Elements per block: 1 for plain types, 32 or 256 for ggml's quantized types. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes of one block (of one element for plain types). */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** True for ggml's block-quantized types (Q4_0 ... Q6_K). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** True for the floating-point types a network weight may have in a safetensors file (F32, F16, BF16). */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** True when a safetensors header may declare this type (the plain types). */
    public boolean isSafetensorsType() {
        return safetensors;
    }

    /** True when ggml has this type (every type except U8 and BOOL); its ggml id is {@link #ggmlId()}. */
    public boolean hasGgmlType() {
        return ggmlId >= 0;
    }

    /**
     * ggml's numeric type id (enum ggml_type), as GGUF files store it.
     *
     * @throws IllegalStateException for U8 and BOOL, which ggml does not have
     */
    public int ggmlId() {
        if (ggmlId < 0) {
            throw new IllegalStateException(name() + " has no ggml type");
        }
        return ggmlId;
    }

    /** True when a row of {@code rowLength} elements is a whole number of blocks. */
    public boolean fitsRow(long rowLength) {
        return rowLength >= 0 && rowLength % blockSize == 0;
    }

    /**
     * Bytes of one row of {@code rowLength} elements.
     *
     * @throws IllegalArgumentException if the row is not a whole number of blocks
     * @throws ArithmeticException      on overflow
     */
    public long rowBytes(long rowLength) {
        if (!fitsRow(rowLength)) {
            throw new IllegalArgumentException("a row of " + rowLength + " elements is not a whole number of " + name()
                    + " blocks (" + blockSize + " elements each)");
        }
        return Math.multiplyExact(rowLength / blockSize, (long) bytesPerBlock);
    }

    /**
     * Bytes a tensor of this shape (outermost first, the last dimension is the row) takes when stored contiguously.
     * A scalar (empty shape) is one element.
     *
     * @throws IllegalArgumentException if a dimension is negative or the row is not a whole number of blocks
     * @throws ArithmeticException      on overflow
     */
    public long storageBytes(long[] shape) {
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + shape[i]);
            }
            rows = Math.multiplyExact(rows, shape[i]);
        }
        long row = shape.length == 0 ? 1 : shape[shape.length - 1];
        if (row < 0) {
            throw new IllegalArgumentException("negative dimension " + row);
        }
        return Math.multiplyExact(rows, rowBytes(row));
    }

    /** The type spelled as in a safetensors header ("F16", "BF16", ...); quantized names are not header names. */
    public static Optional<DType> fromHeaderName(String name) {
        for (DType t : values()) {
            if (t.safetensors && t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The type with ggml id {@code id}, if sdj handles it. */
    public static Optional<DType> fromGgmlId(long id) {
        for (DType t : values()) {
            if (t.ggmlId >= 0 && t.ggmlId == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The supported safetensors header names, comma separated, for error messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).filter(t -> t.safetensors).map(Enum::name).collect(Collectors.joining(", "));
    }

    /** The ggml types sdj reads from GGUF files, comma separated, for error messages. */
    public static String ggmlNames() {
        return Arrays.stream(values()).filter(DType::hasGgmlType).map(Enum::name).collect(Collectors.joining(", "));
    }
}
