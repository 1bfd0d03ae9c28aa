package io.sdj.runtime;

import io.sdj.InvalidParameterException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The ggml tensor types sdj uses, with ggml's numeric ids (enum ggml_type). */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** ggml's enum value. */
    public int id() {
        return id;
    }

    /** Elements per quantization block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes of one block. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes of one row of {@code n} elements; {@code n} must be a multiple of the block size. */
    public long rowBytes(long n) {
        if (n % blockSize != 0) {
            throw new GgmlException("a row of " + n + " elements cannot be stored as " + name()
                    + " (blocks of " + blockSize + ")");
        }
        return n / blockSize * bytesPerBlock;
    }

    /** True for the types model weights can be held in: F32, F16, BF16 and the quantized types. */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16 || isQuantized();
    }

    /** The weight types' names, comma-separated, for messages. */
    public static String weightTypeNames() {
        return Arrays.stream(values()).filter(GgmlType::isWeightType).map(GgmlType::cliName)
                .collect(Collectors.joining(", "));
    }

    /** The lower-case name used by sd.cpp's --type flag (f32, f16, q8_0, ...). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static GgmlType ofId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        throw new GgmlException("ggml type id " + id + " is not one sdj handles");
    }

    /** Parses a weight type name as sd.cpp spells it ("f16", "q8_0", ...). */
    public static GgmlType fromName(String parameter, String name) {
        for (GgmlType t : values()) {
            if (t.cliName().equals(name.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new InvalidParameterException(parameter, "unknown weight type '" + name + "'; expected one of "
                + Arrays.stream(values()).map(GgmlType::cliName).collect(Collectors.joining(", ")));
    }
}
