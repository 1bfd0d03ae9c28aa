package io.sdj.family;

import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.GgmlType;

import java.nio.file.Path;

/**
 * Decides the in-memory ggml type of each weight the way stable-diffusion.cpp does for the LDM families:
 * convolution kernels F16, biases and norms F32, linear weights in the requested type (or the file's), position
 * embeddings F32, token embeddings F16 or F32, OpenCLIP's {@code text_projection} F32, the time and label
 * embeddings never quantized, and a linear weight whose rows do not fit the quantization block kept in F32. A linear
 * weight the file already stores quantized (GGUF) keeps its type unless another type is requested; quantized
 * kernels, norms and biases (which sd.cpp's converter never writes) are expanded.
 *
 * @param requested the --type target, or null to keep the file's types
 */
public record WeightTypePolicy(GgmlType requested) {

    /** The type of one tensor; {@code localName} is its name inside its component. */
    public GgmlType typeOf(Path file, TensorInfo t, String localName) {
        GgmlType fileType = fileType(file, t);
        return switch (t.rank()) {
            case 1 -> GgmlType.F32;  // a quantized norm or bias (crafted file) is expanded: ggml adds F32 vectors
            case 4 -> GgmlType.F16;  // ggml's im2col convolution takes F16 kernels only, quantized ones are expanded
            case 2 -> linearType(t, localName, fileType);
            default -> throw new ModelFormatException(file, t.name(), "has rank " + t.rank()
                    + "; SD weights have rank 1, 2 or 4");
        };
    }

    /** The ggml type a tensor is stored as. */
    static GgmlType fileType(Path file, TensorInfo t) {
        try {
            return GgmlType.valueOf(t.dtype().name());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, t.name(), "has dtype " + t.dtype()
                    + ", which is not a weight type sdj loads");
        }
    }

    private GgmlType linearType(TensorInfo t, String name, GgmlType fileType) {
        if (name.contains("position_embedding") || name.contains("positional_embedding")
                || name.equals("text_projection")) {
            return GgmlType.F32;
        }
        if (name.contains("token_embedding")) {
            return fileType == GgmlType.F16 || fileType.isQuantized() ? fileType : GgmlType.F32;
        }
        boolean keep = requested == null || name.startsWith("time_embed") || name.startsWith("label_emb")
                || name.contains("embedding");
        GgmlType target = keep ? fileType : requested;
        long rowLength = t.dim(1);
        if (target.isQuantized() && rowLength % target.blockSize() != 0) {
            return GgmlType.F32;
        }
        return target;
    }

    /** True for a tensor whose dtype is a weight type (floating point or ggml-quantized). */
    public static boolean isWeight(TensorInfo t) {
        return t.dtype().isWeightType() || t.dtype().isQuantized();
    }
}
