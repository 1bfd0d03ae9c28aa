package io.sdj.nn;

import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;

/**
 * How a model computes scaled dot-product attention: q [C, Lq, N], k and v [C, Lk, N], {@code heads} heads, an
 * optional additive mask; the result is [C, Lq, N]. {@link #REGULAR} materialises the score matrix (sd.cpp's
 * default); {@link #FLASH} uses ggml's fused kernel (sd.cpp's {@code --diffusion-fa} / {@code --fa}).
 */
@FunctionalInterface
public interface Attention {
    Tensor apply(Graph g, Tensor q, Tensor k, Tensor v, int heads, Tensor mask);

    /** {@link Layers#attention}: mul_mat, softmax, mul_mat. */
    Attention REGULAR = Layers::attention;
    /** {@link Layers#flashAttention}: ggml_flash_attn_ext, k and v in F16. */
    Attention FLASH = Layers::flashAttention;

    /** FLASH when {@code flash}, else REGULAR. */
    static Attention of(boolean flash) {
        return flash ? FLASH : REGULAR;
    }
}
