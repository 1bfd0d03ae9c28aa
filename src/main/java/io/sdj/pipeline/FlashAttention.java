package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.Backend;

/**
 * Whether a model's attention runs through ggml's fused flash-attention kernel ({@code ggml_flash_attn_ext}, k and v
 * rounded to f16) or materialises the score matrix (sd.cpp's default).
 *
 * <ul>
 *   <li>{@link #AUTO}: flash attention where sdj measured it both faster and within the parity bound: in the U-Net
 *       on the CPU backend when its attention weights are F16 or F32 (SD 1.5 U-Net, 2 threads: 0.88x the time of
 *       regular attention at 256², 0.70x at 512²; compute memory 559 → 128 MiB at 512², and for SDXL 8360 → 511 MiB
 *       at 1024²; golden images within mean 0.25/255, max 4/255). Regular attention with quantized attention
 *       weights (with q8_0/q4_0 weights flash attention moved the SD 1.5 goldens c07/c08 by 0.78/255 mean, max 6,
 *       out of the bound), on other backends (not measured there) and in the VAE.</li>
 *   <li>{@link #ON}: always flash attention ({@code --diffusion-fa}, {@code --fa}).</li>
 *   <li>{@link #OFF}: always regular attention, as sd-cli does without those flags ({@code --no-fa}).</li>
 * </ul>
 */
public enum FlashAttention {
    AUTO, ON, OFF;

    /** FLASH or not for a U-Net on {@code backend} whose attention weights are (or are not) quantized. */
    boolean inUnet(Backend backend, boolean quantizedAttentionWeights) {
        return this == ON || (this == AUTO && backend.isCpu() && !quantizedAttentionWeights);
    }

    /** FLASH or not for the VAE's mid-block attention (AUTO keeps it regular everywhere). */
    boolean inVae() {
        return this == ON;
    }

    /** ON for true, OFF for false. */
    static FlashAttention of(boolean on) {
        return on ? ON : OFF;
    }

    /**
     * Parses {@code auto}, {@code on} or {@code off} (case-insensitive).
     *
     * @throws InvalidParameterException for anything else
     */
    public static FlashAttention parse(String s) {
        for (FlashAttention f : values()) {
            if (f.name().equalsIgnoreCase(s == null ? "" : s.trim())) {
                return f;
            }
        }
        throw new InvalidParameterException("flash attention", "'" + s + "' is not auto, on or off");
    }
}
