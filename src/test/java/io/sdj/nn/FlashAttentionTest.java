package io.sdj.nn;

import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import io.sdj.runtime.CompiledGraph;
import io.sdj.runtime.GgmlException;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Graph;
import io.sdj.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Layers#flashAttention} against {@link Layers#attention} on U-Net-shaped inputs (SD 1.5: 8 heads of 40 at
 * the first level, self-attention over the latent's pixels and cross-attention over 77 text tokens).
 */
class FlashAttentionTest {

    static float[] random(SplittableRandom r, int n, double hw) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble(-hw, hw);
        }
        return v;
    }

    /** Runs both variants; returns {max |Δ|, max |regular|}. */
    static double[] compare(Backend be, int c, int heads, int lq, int lk, int n) {
        SplittableRandom r = new SplittableRandom(lq * 31L + lk);
        float[] q = random(r, c * lq * n, 1.5);
        float[] k = random(r, c * lk * n, 1.5);
        float[] v = random(r, c * lk * n, 1.0);
        float[][] out = new float[2][];
        for (int variant = 0; variant < 2; variant++) {
            try (Graph g = new Graph("attn")) {
                Tensor tq = g.input("q", GgmlType.F32, c, lq, n);
                Tensor tk = g.input("k", GgmlType.F32, c, lk, n);
                Tensor tv = g.input("v", GgmlType.F32, c, lk, n);
                Tensor o = variant == 0 ? Layers.attention(g, tq, tk, tv, heads, null)
                        : Layers.flashAttention(g, tq, tk, tv, heads, null);
                try (CompiledGraph cg = g.compile(be, o)) {
                    tq.setFloats(q);
                    tk.setFloats(k);
                    tv.setFloats(v);
                    cg.compute();
                    out[variant] = o.getFloats();
                }
            }
        }
        double maxDiff = 0;
        double maxAbs = 0;
        for (int i = 0; i < out[0].length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(out[0][i] - out[1][i]));
            maxAbs = Math.max(maxAbs, Math.abs(out[0][i]));
        }
        return new double[]{maxDiff, maxAbs};
    }

    @ParameterizedTest(name = "C {0}, {1} heads, Lq {2}, Lk {3}, N {4}")
    @CsvSource({
            "320, 8, 1024, 1024, 1", // self-attention at 256², first level
            "320, 8, 1024, 77, 1",   // cross-attention over the prompt
            "640, 8, 256, 77, 2",    // second level, a batch of two
            "1280, 8, 64, 64, 1",    // deepest level
            "512, 1, 256, 256, 1",   // the VAE's single-head mid-block attention
    })
    void matchesRegularAttentionWithinF16Error(int c, int heads, int lq, int lk, int n) {
        double[] d = compare(Backends.get("cpu"), c, heads, lq, lk, n);
        // k and v are rounded to f16 (relative 2^-11); the output is a convex mix of v rows
        assertTrue(d[0] < 4e-3, "max |Δ| " + d[0] + " (max |out| " + d[1] + ")");
    }

    @Test
    void matchesOnVulkan() {
        // lavapipe in tests; Vulkan also computes the regular path's products in F16
        double[] d = compare(Backends.get("vulkan"), 320, 8, 1024, 77, 1);
        assertTrue(d[0] < 1e-2, "max |Δ| " + d[0] + " (max |out| " + d[1] + ")");
    }

    /** Compute bytes of one attention of the given shape, measured by ggml's allocator (nothing is allocated). */
    static long computeBytes(Backend be, boolean flash, int c, int heads, int lq, int lk) {
        try (Graph g = new Graph("measure")) {
            Tensor q = g.input("q", GgmlType.F32, c, lq, 1);
            Tensor k = g.input("k", GgmlType.F32, c, lk, 1);
            Tensor v = g.input("v", GgmlType.F32, c, lk, 1);
            return g.measureComputeBytes(be, Attention.of(flash).apply(g, q, k, v, heads, null));
        }
    }

    @Test
    void cutsTheComputeBufferOfA512SelfAttention() {
        // the first U-Net level at 512²: 4096 tokens of 320 channels, 8 heads
        Backend cpu = Backends.get("cpu");
        long regular = computeBytes(cpu, false, 320, 8, 4096, 4096);
        long flash = computeBytes(cpu, true, 320, 8, 4096, 4096);
        System.out.printf("self-attention 4096x4096, 8 heads of 40: regular %.1f MiB, flash %.1f MiB%n",
                regular / 1048576.0, flash / 1048576.0);
        // the regular path holds the 8 × 4096 × 4096 F32 scores (512 MiB); flash never stores them
        assertTrue(regular >= 8L * 4096 * 4096 * 4, "regular " + regular);
        assertTrue(flash * 10 < regular, "flash " + flash + " vs regular " + regular);
    }

    @Test
    void shapesAreCheckedBeforeGgmlSeesThem() {
        try (Graph g = new Graph("bad")) {
            Tensor q = g.input("q", GgmlType.F32, 320, 16, 1);
            Tensor k = g.input("k", GgmlType.F32, 320, 8, 1);
            Tensor v = g.input("v", GgmlType.F32, 320, 9, 1);
            assertThrows(GgmlException.class, () -> Layers.flashAttention(g, q, k, v, 8, null), "k and v lengths differ");
            assertThrows(GgmlException.class, () -> Layers.flashAttention(g, q, k, k, 7, null), "320 into 7 heads");
            Tensor q4 = g.input("q4", GgmlType.F32, 40, 16, 8, 1);
            Tensor k4 = g.input("k4", GgmlType.F32, 40, 8, 8, 1);
            assertThrows(GgmlException.class, () -> g.flashAttention(q4, k4, k4, null, 0.1f), "k must be F16");
            Tensor k16 = g.cast(k4, GgmlType.F16);
            Tensor v16 = g.cast(g.input("v4", GgmlType.F32, 40, 9, 8, 1), GgmlType.F16);
            assertThrows(GgmlException.class, () -> g.flashAttention(q4, k16, v16, null, 0.1f), "lengths differ");
            assertThrows(GgmlException.class, () -> g.flashAttention(q4, k16, k16, null, Float.NaN), "bad scale");
        }
    }
}
