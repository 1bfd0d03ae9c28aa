package io.sdj.family;

import io.sdj.InvalidParameterException;
import io.sdj.model.Component;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.runtime.GgmlType;

import java.nio.file.Path;
import java.util.List;

/**
 * Decides the in-memory ggml type of each weight the way stable-diffusion.cpp does for the LDM families:
 * convolution kernels F16, biases and norms F32, linear weights in the requested type (or the file's), position
 * embeddings F32, token embeddings F16 or F32, OpenCLIP's {@code text_projection} F32, the time and label
 * embeddings never quantized, and a linear weight whose rows do not fit the quantization block kept in F32. A linear
 * weight the file already stores quantized (GGUF) keeps its type unless another type is requested; quantized
 * kernels, norms and biases (which sd.cpp's converter never writes) are expanded.
 *
 * <p>{@code rules} ({@code --tensor-type-rules}) replace {@code requested} for the tensors they match, as in sd.cpp.
 * {@code diffusionConvType} is sdj's own: the U-Net's convolution kernels in that type instead of F16, one that is
 * neither F16 nor F32 stored as a [KW·KH·IC, OC] matrix and run as im2col and a matrix product (images then differ from sd-cli's);
 * a kernel whose KW·KH·IC does not fit the type's block stays F16.
 *
 * @param requested         the --type target, or null to keep the file's types
 * @param rules             --tensor-type-rules, first match wins (empty: none)
 * @param diffusionConvType --diffusion-conv-type: the U-Net's convolution kernels' type, or null for F16
 */
public record WeightTypePolicy(GgmlType requested, List<TensorTypeRule> rules, GgmlType diffusionConvType) {
    /** The parameter name errors about {@code diffusionConvType} carry. */
    public static final String DIFFUSION_CONV_TYPE = "diffusion-conv-type";

    public WeightTypePolicy {
        rules = rules == null ? List.of() : List.copyOf(rules);
        requireWeightType("type", requested);
        requireWeightType(DIFFUSION_CONV_TYPE, diffusionConvType);
    }

    /**
     * Refuses a type weights cannot be held in (null passes: the default).
     *
     * @throws InvalidParameterException naming {@code parameter} and the weight types
     */
    public static GgmlType requireWeightType(String parameter, GgmlType type) {
        if (type != null && !type.isWeightType()) {
            throw new InvalidParameterException(parameter, type.cliName() + " is not a weight type; expected one of "
                    + GgmlType.weightTypeNames());
        }
        return type;
    }

    /** Only --type (null: the file's types). */
    public WeightTypePolicy(GgmlType requested) {
        this(requested, List.of(), null);
    }

    /** This policy with --tensor-type-rules. */
    public WeightTypePolicy withRules(List<TensorTypeRule> r) {
        return new WeightTypePolicy(requested, r, diffusionConvType);
    }

    /** This policy with the U-Net's convolution kernels in {@code type} (null: F16). */
    public WeightTypePolicy withDiffusionConvType(GgmlType type) {
        return new WeightTypePolicy(requested, rules, type);
    }

    /** The type of one tensor; {@code localName} is its name inside its component. */
    public GgmlType typeOf(Path file, TensorInfo t, String localName) {
        GgmlType fileType = fileType(file, t);
        return switch (t.rank()) {
            case 1 -> GgmlType.F32;  // a quantized norm or bias (crafted file) is expanded: ggml adds F32 vectors
            case 4 -> kernelType(t);
            case 2 -> linearType(t, localName, fileType, requestedFor(t.name()));
            default -> throw new ModelFormatException(file, t.name(), "has rank " + t.rank()
                    + "; SD weights have rank 1, 2 or 4");
        };
    }

    /**
     * A convolution kernel [OC, IC, KH, KW]: F16 (ggml's im2col convolution takes F16 kernels; quantized ones in a
     * file are expanded), unless {@code diffusionConvType} asks otherwise for a U-Net kernel whose KW·KH·IC fits it.
     */
    private GgmlType kernelType(TensorInfo t) {
        if (diffusionConvType == null || !t.name().startsWith(Component.UNET.prefix())) {
            return GgmlType.F16;
        }
        long k = t.dim(1) * t.dim(2) * t.dim(3);
        if (diffusionConvType.isQuantized() && k % diffusionConvType.blockSize() != 0) {
            return GgmlType.F16;
        }
        return diffusionConvType;
    }

    /** The first matching rule's type, else --type. */
    private GgmlType requestedFor(String tensorName) {
        for (TensorTypeRule r : rules) {
            if (r.matches(tensorName)) {
                return r.type();
            }
        }
        return requested;
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

    private static GgmlType linearType(TensorInfo t, String name, GgmlType fileType, GgmlType requested) {
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
