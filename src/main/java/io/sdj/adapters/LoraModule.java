package io.sdj.adapters;

import io.sdj.model.DType;

/**
 * One low-rank update of a model weight W [out, in, (kh, kw)]: ΔW = scale · up · down, with {@code down} [rank, in·kh·kw]
 * (a 3×3 LoCon down is [rank, in, kh, kw]) and {@code up} [out, rank], both row-major F32 copies of the file's values.
 *
 * @param key      the module's name in the LoRA file (without the {@code .lora_down.weight} suffix)
 * @param target   the LDM weight it patches ({@code model.diffusion_model.input_blocks.1.1.proj_in.weight})
 * @param rank     the rank (PyTorch {@code down.shape[0]})
 * @param down     down values, row-major
 * @param up       up values, row-major
 * @param kernel   the down kernel's spatial size (1 for Linear and 1×1 layers, 3 for a 3×3 LoCon conv)
 * @param alpha    the file's {@code .alpha}, or NaN when it has none
 * @param fileScale the file's {@code .scale}, or NaN when it has none (it replaces alpha / rank)
 * @param dtype    the stored type of down and up (F16, F32 or BF16), kept for run-time application
 */
public record LoraModule(String key, String target, int rank, float[] down, float[] up, int kernel, float alpha,
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

    /** Rows of up (the weight's out dimension). */
    public int rows() {
        return up.length / rank;
    }
}
