package io.sdj.pipeline;

import io.sdj.model.DType;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.GgmlType;

import java.nio.file.Path;

/**
 * Decides the in-memory ggml type of each weight the way stable-diffusion.cpp does: convolution kernels F16, biases
 * and norms F32, linear weights in the requested type (or the file's), embeddings and the time embedding never
 * quantized, and a linear weight whose rows do not fit the quantization block kept in higher precision.
 *
 * @param requested the --type target, or null to keep the file's types
 */
record WeightTypePolicy(GgmlType requested) {

    GgmlType typeOf(Path file, TensorInfo t, String localName) {
        GgmlType fileType = switch (t.dtype()) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            default -> throw new ModelFormatException(file, t.name(), "has dtype " + t.dtype()
                    + "; weights must be F32, F16 or BF16");
        };
        return switch (t.rank()) {
            case 1 -> GgmlType.F32;
            case 4 -> GgmlType.F16;
            case 2 -> linearType(t, localName, fileType);
            default -> throw new ModelFormatException(file, t.name(), "has rank " + t.rank()
                    + "; SD weights have rank 1, 2 or 4");
        };
    }

    private GgmlType linearType(TensorInfo t, String name, GgmlType fileType) {
        if (name.contains("position_embedding")) {
            return GgmlType.F32;
        }
        if (name.contains("token_embedding")) {
            return fileType == GgmlType.F16 ? GgmlType.F16 : GgmlType.F32;
        }
        GgmlType target = requested == null || name.startsWith("time_embed") ? fileType : requested;
        long rowLength = t.dim(1);
        if (target.isQuantized() && rowLength % target.blockSize() != 0) {
            return GgmlType.F32;
        }
        return target;
    }

    static boolean isWeight(TensorInfo t) {
        return t.dtype() == DType.F32 || t.dtype() == DType.F16 || t.dtype() == DType.BF16;
    }
}
