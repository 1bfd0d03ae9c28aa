package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.Backend;

/**
 * Whether a model's attention runs through ggml's fused flash-attention kernel ({@code ggml_flash_attn_ext}, k and v
 * rounded to f16) or materialises the score matrix (sd.cpp's default).
 *
 * <ul>
 *   <li>{@link #AUTO}, on the CPU backend: flash attention in the U-Net where sdj measured it both faster and
 *       within the parity bound, that is for SD 1.x with F16 or F32 attention weights (SD 1.5 U-Net, 2 threads:
 *       0.88x the time of regular attention at 256², 0.70x at 512²; compute memory 559 → 128 MiB at 512²; every
 *       SD 1.5, LoRA and TAESD golden case within mean 0.25/255, max 4/255). Regular attention for SD 2.x and SDXL
 *       (their goldens moved up to 0.185 and 0.336/255) and with quantized attention weights (c07/c08, q8_0/q4_0,
 *       moved 0.78/255, max 6), except for a latent shape whose regular-attention graph would need more than
 *       {@link #LARGE_GRAPH} of compute memory: that one runs with flash attention, with a log line (SDXL at
 *       1024²: 8360 → 511 MiB). Regular attention in the VAE. On other backends: regular attention (not measured
 *       there).</li>
 *   <li>{@link #ON}: always flash attention ({@code --diffusion-fa}, {@code --fa}).</li>
 *   <li>{@link #OFF}: always regular attention, as sd-cli does without those flags ({@code --no-fa}).</li>
 * </ul>
 */
public enum FlashAttention {
    AUTO, ON, OFF;

    /**
     * FLASH or not for every graph of a U-Net on {@code backend} whose attention weights are (or are not) quantized,
     * of a family where flash attention is (or is not) known to stay within the parity bound.
     */
    boolean inUnet(Backend backend, boolean quantizedAttentionWeights, boolean withinBound) {
        return this == ON || (this == AUTO && backend.isCpu() && !quantizedAttentionWeights && withinBound);
    }

    /** True when a regular-attention U-Net switches a large graph to flash attention ({@link #LARGE_GRAPH}). */
    boolean switchesLargeGraphs(Backend backend) {
        return this == AUTO && backend.isCpu();
    }

    /**
     * Compute memory of the regular-attention U-Net graph above which AUTO uses flash attention for that shape, in
     * every family and for every weight type: large images, where the attention score matrices dominate (SDXL at
     * 1024²: 8360 MiB regular, 511 MiB flash; SD 1.5 at 512²: 559 MiB).
     */
    static final long LARGE_GRAPH = 1L << 30;

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
