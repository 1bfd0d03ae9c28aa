package io.sdj.adapters;

import io.sdj.model.DType;

/**
 * One low-rank update of a model weight W [out, in, (kh, kw)]: ΔW = scale · up · down, with {@code down} [rank, in·kh·kw]
 * (a 3×3 LoCon down is [rank, in, kh, kw]) and {@code up} [out, rank], both row-major F32 copies of the file's values.
 *
 * @param key      the module's name in the LoRA file (without the {@code .lora_down.weight} suffix)
 * @param target   the LDM weight it patches ({@code model.diffusion_model.input_blocks.1.1.proj_in.weight})
 * @param part     for OpenCLIP's fused {@code in_proj_weight}: the row third it patches (0 q, 1 k, 2 v); -1 for a
 *                 whole weight
 * @param rank     the rank (PyTorch {@code down.shape[0]})
 * @param down     down values, row-major
 * @param up       up values, row-major
 * @param kernel   the down kernel's spatial size (1 for Linear and 1×1 layers, 3 for a 3×3 LoCon conv)
 * @param alpha    the file's {@code .alpha}, or NaN when it has none
 * @param fileScale the file's {@code .scale}, or NaN when it has none (it replaces alpha / rank)
 * @param dtype    the stored type of down and up (F16, F32 or BF16), kept for run-time application
 */
public record LoraModule(String key, String target, int part, int rank, float[] down, float[] up, int kernel, float alpha,
                         float fileScale, DType dtype) {

    /**
     * The scale at this multiplier, in float as sd.cpp computes it: {@code .scale × m} when the file has a scale
     * tensor, else {@code alpha / rank × m}, else {@code m}.
     */
    public float scale(float multiplier) {
        float s = 1.0f;
        if (!Float.isNaN(fileScale)) {
            s = fileScale;
        } else if (!Float.isNaN(alpha)) {
            s = alpha / rank;
        }
        return s * multiplier;
    }

    /** Columns of the flattened down (in · kh · kw). */
    public int columns() {
        return down.length / rank;
    }

    /** The first weight row it patches. */
    public int firstRow() {
        return part < 0 ? 0 : part * rows();
    }

    /** The key its run-time term is attached under: the weight, with {@code #part} for a third of one. */
    public String runtimeKey() {
        return part < 0 ? target : target + "#" + part;
    }

    /** Rows of up (the weight's out dimension, or the third's). */
    public int rows() {
        return up.length / rank;
    }
}
