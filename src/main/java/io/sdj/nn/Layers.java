package io.sdj.nn;

import io.sdj.runtime.GgmlException;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.LowRank;
import io.sdj.runtime.Tensor;

import java.util.Arrays;

/**
 * The building blocks shared by the text encoder, U-Net and VAE, built the way stable-diffusion.cpp builds them so
 * that results match it: the same ggml operations in the same order.
 */
public final class Layers {
    /** GroupNorm epsilon sd.cpp uses for every GroupNorm (U-Net and VAE). */
    public static final float GROUP_NORM_EPS = 1e-6f;
    /** LayerNorm epsilon (CLIP, transformer blocks). */
    public static final float LAYER_NORM_EPS = 1e-5f;

    private Layers() {
    }

    /** y = W x + b for x [in, ...], W [in, out]; b may be null. */
    public static Tensor linear(Graph g, Tensor x, Tensor weight, Tensor bias) {
        Tensor y = g.mulMat(weight, x);
        return bias == null ? y : g.add(y, bias);
    }

    /** Linear layer from a scope holding {@code weight} and optionally {@code bias}. */
    public static Tensor linear(Graph g, Tensor x, Scope s) {
        return withLowRank(g, x, linear(g, x, s.get("weight"), s.has("bias") ? s.get("bias") : null), s, "weight");
    }

    /**
     * A Linear layer's output {@code y = W x + b} plus the run-time low-rank terms attached to the weight
     * {@code name} of scope {@code s} (LoRA at run time): {@code y + scale · up(down(x))} for each, in order.
     */
    public static Tensor withLowRank(Graph g, Tensor x, Tensor y, Scope s, String name) {
        for (LowRank lr : s.store().lowRank(s.prefix() + name)) {
            Tensor u = g.mulMat(lr.up(), g.mulMat(lr.down(), x));
            y = g.add(y, g.scale(u, lr.scale()));
        }
        return y;
    }

    /** 2-D convolution, x [W, H, IC, N], kernel [KW, KH, IC, OC], square stride and padding, bias [OC]. */
    public static Tensor conv2d(Graph g, Tensor x, Tensor kernel, Tensor bias, int stride, int pad) {
        Tensor y = g.conv2d(kernel, x, stride, stride, pad, pad, 1, 1);
        if (bias == null) {
            return y;
        }
        return g.add(y, g.reshape(bias, 1, 1, bias.ne(0), 1));
    }

    /**
     * A convolution run on a scaled input, as sd.cpp runs SDXL's VAE: {@code conv(x · scale) / scale + bias}. With
     * F16 kernels the scaled input is rounded to F16, so a power-of-two scale trades overflow for subnormals; 1 is a
     * plain {@link #conv2d(Graph, Tensor, Scope, int, int)}.
     */
    public static Tensor conv2d(Graph g, Tensor x, Scope s, int stride, int pad, float scale) {
        if (scale == 1.0f) {
            return conv2d(g, x, s, stride, pad);
        }
        Tensor y = convolve(g, g.scale(x, scale), s, stride, pad, false);
        return addBias(g, g.scale(y, 1.0f / scale), s);
    }

    /**
     * The scope's kernel applied to x without bias: ggml's im2col convolution (or the direct one) for a [KW, KH, IC,
     * OC] kernel, im2col and a matrix product for a kernel the store holds as a matrix (a quantized one, see
     * {@link io.sdj.runtime.WeightStore#createKernelMatrix}); there is no direct form of the latter.
     */
    private static Tensor convolve(Graph g, Tensor x, Scope s, int stride, int pad, boolean direct) {
        Tensor w = s.get("weight");
        java.util.Optional<long[]> matrix = s.store().kernelShape(s.prefix() + "weight");
        if (matrix.isPresent()) {
            long[] ne = matrix.get();
            return g.conv2dMatrix(w, (int) ne[0], (int) ne[1], x, stride, stride, pad, pad, 1, 1);
        }
        return direct ? g.conv2dDirect(w, x, stride, stride, pad, pad, 1, 1)
                : g.conv2d(w, x, stride, stride, pad, pad, 1, 1);
    }

    private static Tensor addBias(Graph g, Tensor y, Scope s) {
        if (!s.has("bias")) {
            return y;
        }
        Tensor bias = s.get("bias");
        return g.add(y, g.reshape(bias, 1, 1, bias.ne(0), 1));
    }

    /** Convolution from a scope holding {@code weight} and {@code bias}. */
    public static Tensor conv2d(Graph g, Tensor x, Scope s, int stride, int pad) {
        Tensor y = addBias(g, convolve(g, x, s, stride, pad, false), s);
        for (LowRank lr : s.store().lowRank(s.prefix() + "weight")) {
            Tensor d = g.conv2d(lr.down(), x, stride, stride, pad, pad, 1, 1);
            Tensor u = g.conv2d(lr.up(), d, 1, 1, 0, 0, 1, 1);
            y = g.add(y, g.scale(u, lr.scale()));
        }
        return y;
    }

    /** Convolution without im2col (ggml_conv_2d_direct), from a scope holding {@code weight} and {@code bias}. */
    public static Tensor conv2dDirect(Graph g, Tensor x, Scope s, int stride, int pad) {
        return conv2dDirect(g, x, s, stride, pad, 1.0f);
    }

    /** {@link #conv2dDirect(Graph, Tensor, Scope, int, int)} on a scaled input, as {@link #conv2d(Graph, Tensor, Scope, int, int, float)}. */
    public static Tensor conv2dDirect(Graph g, Tensor x, Scope s, int stride, int pad, float scale) {
        Tensor in = scale == 1.0f ? x : g.scale(x, scale);
        Tensor y = convolve(g, in, s, stride, pad, true);
        return addBias(g, scale == 1.0f ? y : g.scale(y, 1.0f / scale), s);
    }

    /** GroupNorm with 32 groups over x [W, H, C, N], then per-channel scale and shift. */
    public static Tensor groupNorm32(Graph g, Tensor x, Scope s) {
        Tensor w = s.get("weight");
        Tensor b = s.get("bias");
        Tensor y = g.groupNorm(x, 32, GROUP_NORM_EPS);
        y = g.mul(y, g.reshape(w, 1, 1, w.ne(0), 1));
        return g.add(y, g.reshape(b, 1, 1, b.ne(0), 1));
    }

    /** LayerNorm over the innermost dimension, then scale and shift. */
    public static Tensor layerNorm(Graph g, Tensor x, Scope s, float eps) {
        Tensor y = g.norm(x, eps);
        y = g.mul(y, s.get("weight"));
        return g.add(y, s.get("bias"));
    }

    /**
     * Multi-head scaled dot-product attention. q [C, Lq, N], k [C, Lk, N], v [C, Lk, N]; mask (nullable) is added
     * to the scaled logits [Lk, Lq]. Returns [C, Lq, N].
     */
    public static Tensor attention(Graph g, Tensor q, Tensor k, Tensor v, int heads, Tensor mask) {
        long c = q.ne(0);
        long lq = q.ne(1);
        long lk = k.ne(1);
        long n = q.ne(2);
        long dh = c / heads;
        if (dh * heads != c) {
            throw new io.sdj.runtime.GgmlException("attention: " + c + " channels are not divisible into " + heads + " heads");
        }
        Tensor qh = g.reshape(g.cont(g.permute(g.reshape(q, dh, heads, lq, n), 0, 2, 1, 3)), dh, lq, heads * n);
        Tensor kh = g.reshape(g.cont(g.permute(g.reshape(k, dh, heads, lk, n), 0, 2, 1, 3)), dh, lk, heads * n);
        Tensor vt = g.reshape(g.cont(g.permute(g.reshape(v, dh, heads, lk, n), 1, 2, 0, 3)), lk, dh, heads * n);
        Tensor kq = g.mulMat(kh, qh);
        kq = g.scale(kq, 1.0f / (float) Math.sqrt(dh));
        if (mask != null) {
            kq = g.add(kq, mask);
        }
        kq = g.softMax(kq);
        Tensor kqv = g.mulMat(vt, kq);
        kqv = g.reshape(kqv, dh, lq, heads, n);
        return g.reshape(g.cont(g.permute(kqv, 0, 2, 1, 3)), dh * heads, lq, n);
    }

    /**
     * The same attention as {@link #attention} (same inputs, same [C, Lq, N] result), computed by ggml's fused
     * flash-attention kernel: the [Lk, Lq] score matrix of each head is never stored, so the compute buffer no
     * longer grows with Lq·Lk. As in sd.cpp's {@code --diffusion-fa}, k and v are converted to F16 first (q stays
     * F32 and the kernel accumulates in F32), which moves results by about F16 rounding. An F32 mask is converted
     * to F16.
     */
    public static Tensor flashAttention(Graph g, Tensor q, Tensor k, Tensor v, int heads, Tensor mask) {
        long c = q.ne(0);
        long lq = q.ne(1);
        long lk = k.ne(1);
        long n = q.ne(2);
        long dh = heads > 0 ? c / heads : 0;
        if (heads <= 0 || dh * heads != c) {
            throw new GgmlException("flash attention: " + c + " channels are not divisible into "
                    + heads + " heads");
        }
        if (k.ne(0) != c || v.ne(0) != c || v.ne(1) != lk || k.ne(2) != n || v.ne(2) != n) {
            throw new GgmlException("flash attention: q " + Arrays.toString(q.ne()) + ", k "
                    + Arrays.toString(k.ne()) + ", v " + Arrays.toString(v.ne())
                    + " do not fit [C, L, N]");
        }
        Tensor qh = g.cont(g.permute(g.reshape(q, dh, heads, lq, n), 0, 2, 1, 3));
        Tensor kh = g.cast(g.permute(g.reshape(k, dh, heads, lk, n), 0, 2, 1, 3), GgmlType.F16);
        Tensor vh = g.cast(g.permute(g.reshape(v, dh, heads, lk, n), 0, 2, 1, 3), GgmlType.F16);
        Tensor m = mask == null || mask.type() == GgmlType.F16 ? mask
                : g.cast(mask, GgmlType.F16);
        Tensor out = g.flashAttention(qh, kh, vh, m, 1.0f / (float) Math.sqrt(dh)); // [dh, heads, lq, n]
        return g.reshape(out, dh * heads, lq, n);
    }
}
