package io.sdj.model;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** Element types a safetensors file may declare that sdj reads, with their size in bytes. */
public enum DType {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for the floating-point types a network weight may have (F32, F16, BF16). */
    public boolean isWeightType() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type spelled as in a safetensors header ("F16", "BF16", ...), if sdj knows it. */
    public static Optional<DType> fromHeaderName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The supported header names, comma separated, for error messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
