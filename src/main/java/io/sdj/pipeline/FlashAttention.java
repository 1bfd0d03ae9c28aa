package io.sdj.pipeline;

import io.sdj.EnumValues;
import io.sdj.InvalidParameterException;
import io.sdj.runtime.Backend;

import java.util.function.LongSupplier;

/**
 * Whether a model's attention runs through ggml's fused flash-attention kernel ({@code ggml_flash_attn_ext}, k and v
 * rounded to f16) or materialises the score matrix (sd.cpp's default).
 *
 * <ul>
 *   <li>{@link #AUTO}, on the CPU backend, per latent shape: flash attention in the U-Net where sdj measured it
 *       faster, that is when the longest self-attention has at least {@link #MIN_TOKENS} tokens (SD 1.x from 256²,
 *       SDXL from 512²; 0.88x the time of regular attention per SD 1.5 U-Net evaluation at 256², 0.70x at 512²),
 *       with F16/F32 attention weights; and for any weights when regular attention would need more than
 *       {@link #LARGE_GRAPH} of compute memory (SDXL at 1024²: 8360 → 511 MiB). Smaller shapes, every golden case
 *       among them, keep regular attention and so sd.cpp's numbers: at 64² flash attention moved the goldens by up
 *       to 0.336/255 (SDXL g05, out of the bound; SD 2.x s02 0.185; TAESD t01 0.213; q8_0 c07 0.78, max 6), because
 *       these random models amplify its f16 rounding. Regular attention in the VAE, and on other backends (not
 *       measured there).</li>
 *   <li>{@link #ON}: always flash attention ({@code --diffusion-fa}, {@code --fa}).</li>
 *   <li>{@link #OFF}: always regular attention, as sd-cli does without those flags ({@code --no-fa}).</li>
 * </ul>
 */
public enum FlashAttention {
    AUTO, ON, OFF;

    /** True when the U-Net decides per latent shape ({@link #AUTO} on the CPU); else {@link #ON} decides alone. */
    boolean decidesPerShape(Backend backend) {
        return this == AUTO && backend.isCpu();
    }

    /**
     * AUTO's choice for one latent shape: flash attention when the U-Net's longest self-attention has at least
     * {@link #MIN_TOKENS} tokens and the attention weights are F16/F32, or when the regular graph would need more
     * than {@link #LARGE_GRAPH} of compute memory whatever the weights.
     */
    static boolean flashFor(long selfAttentionTokens, boolean quantizedAttentionWeights, LongSupplier regularBytes) {
        if (selfAttentionTokens >= MIN_TOKENS && !quantizedAttentionWeights) {
            return true;
        }
        return regularBytes.getAsLong() > LARGE_GRAPH;
    }

    /**
     * The self-attention length from which flash attention is faster on the CPU: SD 1.5 at 256² (1024 tokens)
     * measured 0.88x, at 512² (4096) 0.70x the time of regular attention per U-Net evaluation. Every golden case is
     * below it (at most 128², 256 tokens), and there regular attention keeps sd.cpp's numbers exactly.
     */
    static final long MIN_TOKENS = 1024;

    /**
     * Compute memory of the regular-attention U-Net graph above which AUTO uses flash attention for that shape even
     * with quantized weights (SDXL at 1024²: 8360 MiB regular, 511 MiB flash).
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
        return EnumValues.parse(FlashAttention.class, s, "flash attention");
    }
}
