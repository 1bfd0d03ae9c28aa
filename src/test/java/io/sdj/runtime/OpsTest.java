package io.sdj.runtime;

import io.sdj.nn.Layers;
import io.sdj.nn.Scope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real graphs through the runtime layer against plain-Java references, on the CPU backend and on Vulkan (lavapipe
 * in CI). Shapes are ggml's (innermost first); the references index flat arrays the same way.
 */
class OpsTest {
    /** Vulkan computes F32 products in F16 by default: about 2.5e-4 relative error on large products. */
    static double tolerance(String backend, double cpu) {
        return backend.equals("cpu") ? cpu : Math.max(cpu, 3e-3);
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** Builds one graph over F32 inputs, computes it on the backend and returns the output. */
    static float[] run(String backend, long[][] shapes, float[][] data, BiFunction<Graph, Tensor[], Tensor> build) {
        try (Graph g = new Graph("test")) {
            Tensor[] in = new Tensor[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                in[i] = g.input("in" + i, GgmlType.F32, shapes[i]);
            }
            Tensor out = build.apply(g, in);
            try (CompiledGraph c = g.compile(Backends.get(backend), out)) {
                for (int i = 0; i < in.length; i++) {
                    in[i].setFloats(data[i]);
                }
                c.compute();
                return out.getFloats();
            }
        }
    }

    /** max |a - b| / max |b| */
    static double relError(float[] actual, double[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            assertTrue(Float.isFinite(actual[i]), "non-finite output at " + i);
            num = Math.max(num, Math.abs(actual[i] - expected[i]));
            den = Math.max(den, Math.abs(expected[i]));
        }
        return num / den;
    }

    /** ||a - b|| / ||b|| (for quantized weights, whose error is spread over all elements). */
    static double rmsError(float[] actual, double[] expected) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    /** ggml_mul_mat(a [k, m], b [k, n]) = c [m, n] with c[j][i] = sum_p a[i][p] b[j][p]. */
    static double[] matmulRef(float[] a, float[] b, int k, int m, int n) {
        double[] c = new double[m * n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) a[i * k + p] * b[j * k + p];
                }
                c[j * m + i] = s;
            }
        }
        return c;
    }

    @Test
    void matmul512F32OnCpuWithin1e4() {
        int k = 512, m = 512, n = 512;
        float[] a = random(k * m, 1);
        float[] b = random(k * n, 2);
        float[] c = run("cpu", new long[][]{{k, m}, {k, n}}, new float[][]{a, b}, (g, t) -> g.mulMat(t[0], t[1]));
        double err = relError(c, matmulRef(a, b, k, m, n));
        assertTrue(err <= 1e-4, "relative error " + err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void matmulF32(String backend) {
        int k = 96, m = 40, n = 33;
        float[] a = random(k * m, 3);
        float[] b = random(k * n, 4);
        float[] c = run(backend, new long[][]{{k, m}, {k, n}}, new float[][]{a, b}, (g, t) -> g.mulMat(t[0], t[1]));
        double err = relError(c, matmulRef(a, b, k, m, n));
        assertTrue(err <= tolerance(backend, 1e-5), backend + ": relative error " + err);
    }

    /** Weights stored as F16 / Q8_0 / Q4_0 on the backend, activations F32. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu:F16", "cpu:Q8_0", "cpu:Q4_0", "vulkan:F16", "vulkan:Q8_0", "vulkan:Q4_0"})
    void matmulTypedWeights(String spec) {
        String backend = spec.split(":")[0];
        GgmlType type = GgmlType.valueOf(spec.split(":")[1]);
        int k = 256, m = 64, n = 24;
        float[] a = random(k * m, 5);
        float[] b = random(k * n, 6);
        double[] ref = matmulRef(a, b, k, m, n);
        try (WeightStore w = new WeightStore("w", 1); Graph g = new Graph("typed");
             Arena arena = Arena.ofConfined()) {
            Tensor wt = w.create("a", type, k, m);
            w.allocate(Backends.get(backend));
            MemorySegment dst = arena.allocate(type.rowBytes(k) * m, 16);
            TypeConverter.convert(arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), GgmlType.F32, dst, type, m, k, arena);
            wt.write(dst, 0);
            Tensor x = g.input("x", GgmlType.F32, k, n);
            Tensor y = g.mulMat(wt, x);
            try (CompiledGraph c = g.compile(Backends.get(backend), y)) {
                x.setFloats(b);
                c.compute();
                double err = rmsError(y.getFloats(), ref);
                double bound = switch (type) {
                    case F16 -> backend.equals("cpu") ? 2e-3 : 5e-3; // Vulkan rounds more in F16
                    case Q8_0 -> 1.5e-2;
                    default -> 0.15;
                };
                assertTrue(err <= bound, spec + ": rms relative error " + err);
                assertTrue(err > 0 || type == GgmlType.F16, spec + ": a quantized product cannot be exact");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void softmax(String backend) {
        int w = 37, rows = 5;
        float[] x = random(w * rows, 7);
        double[] ref = new double[w * rows];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < w; i++) {
                max = Math.max(max, x[r * w + i]);
            }
            for (int i = 0; i < w; i++) {
                sum += Math.exp(x[r * w + i] - max);
            }
            for (int i = 0; i < w; i++) {
                ref[r * w + i] = Math.exp(x[r * w + i] - max) / sum;
            }
        }
        float[] y = run(backend, new long[][]{{w, rows}}, new float[][]{x}, (g, t) -> g.softMax(t[0]));
        assertTrue(relError(y, ref) <= tolerance(backend, 1e-5), backend + ": " + relError(y, ref));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void groupNorm(String backend) {
        int w = 6, h = 5, c = 64, groups = 32;
        float[] x = random(w * h * c, 8);
        double[] ref = new double[x.length];
        int per = c / groups;
        for (int gi = 0; gi < groups; gi++) {
            int from = gi * per * w * h, to = (gi + 1) * per * w * h;
            double mean = 0, var = 0;
            for (int i = from; i < to; i++) {
                mean += x[i];
            }
            mean /= (to - from);
            for (int i = from; i < to; i++) {
                var += (x[i] - mean) * (x[i] - mean);
            }
            var /= (to - from);
            for (int i = from; i < to; i++) {
                ref[i] = (x[i] - mean) / Math.sqrt(var + 1e-6);
            }
        }
        float[] y = run(backend, new long[][]{{w, h, c, 1}}, new float[][]{x}, (g, t) -> g.groupNorm(t[0], groups, 1e-6f));
        assertTrue(relError(y, ref) <= tolerance(backend, 1e-5), backend + ": " + relError(y, ref));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void layerNormWithScaleAndShift(String backend) {
        int d = 48, rows = 7;
        float[] x = random(d * rows, 9);
        float[] scale = random(d, 10);
        float[] shift = random(d, 11);
        double[] ref = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (int i = 0; i < d; i++) {
                mean += x[r * d + i];
            }
            mean /= d;
            for (int i = 0; i < d; i++) {
                var += Math.pow(x[r * d + i] - mean, 2);
            }
            var /= d;
            for (int i = 0; i < d; i++) {
                ref[r * d + i] = (x[r * d + i] - mean) / Math.sqrt(var + 1e-5) * scale[i] + shift[i];
            }
        }
        float[] y = run(backend, new long[][]{{d, rows}, {d}, {d}}, new float[][]{x, scale, shift},
                (g, t) -> g.add(g.mul(g.norm(t[0], 1e-5f), t[1]), t[2]));
        assertTrue(relError(y, ref) <= tolerance(backend, 1e-5), backend + ": " + relError(y, ref));
    }

    /**
     * Plain-Java 2-D convolution: x [W, H, IC, N] and kernel [KW = KH = kk, IC, OC] in ggml order, each value passed
     * through {@code round} first (F16 storage, or none); the result is [OW, OH, OC, N].
     */
    static double[] referenceConv(float[] x, float[] k, int w, int h, int ic, int oc, int n, int kk, int stride,
                                  int pad, java.util.function.DoubleUnaryOperator round) {
        int ow = (w + 2 * pad - kk) / stride + 1, oh = (h + 2 * pad - kk) / stride + 1;
        double[] ref = new double[ow * oh * oc * n];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < oc; o++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double s = 0;
                        for (int c = 0; c < ic; c++) {
                            for (int ky = 0; ky < kk; ky++) {
                                for (int kx = 0; kx < kk; kx++) {
                                    int ix = ox * stride + kx - pad, iy = oy * stride + ky - pad;
                                    if (ix >= 0 && iy >= 0 && ix < w && iy < h) {
                                        s += round.applyAsDouble(k[((o * ic + c) * kk + ky) * kk + kx])
                                                * round.applyAsDouble(x[((b * ic + c) * h + iy) * w + ix]);
                                    }
                                }
                            }
                        }
                        ref[((b * oc + o) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        return ref;
    }

    /** 3×3 convolution with stride and padding, kernel stored F16 as sd.cpp stores conv weights. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu:1:1", "cpu:2:1", "vulkan:1:1", "vulkan:2:1"})
    void conv2d(String spec) {
        String backend = spec.split(":")[0];
        int stride = Integer.parseInt(spec.split(":")[1]);
        int pad = Integer.parseInt(spec.split(":")[2]);
        int w = 9, h = 7, ic = 5, oc = 6, kk = 3;
        float[] x = random(w * h * ic, 12);
        float[] k = random(kk * kk * ic * oc, 13);
        int ow = (w + 2 * pad - kk) / stride + 1, oh = (h + 2 * pad - kk) / stride + 1;
        double[] ref = referenceConv(x, k, w, h, ic, oc, 1, kk, stride, pad,
                v -> Float.float16ToFloat(Float.floatToFloat16((float) v)));
        try (WeightStore ws = new WeightStore("conv", 1); Graph g = new Graph("conv")) {
            Tensor kt = ws.create("k", GgmlType.F16, kk, kk, ic, oc);
            ws.allocate(Backends.get(backend));
            kt.setFloats(k);
            Tensor xt = g.input("x", GgmlType.F32, w, h, ic, 1);
            Tensor y = g.conv2d(kt, xt, stride, stride, pad, pad, 1, 1);
            try (CompiledGraph c = g.compile(Backends.get(backend), y)) {
                xt.setFloats(x);
                c.compute();
                assertEquals(ow, y.ne(0));
                assertEquals(oh, y.ne(1));
                assertEquals(oc, y.ne(2));
                double err = relError(y.getFloats(), ref);
                assertTrue(err <= 1e-3, spec + ": " + err);
            }
        }
    }

    /**
     * A kernel held as a [KW·KH·IC, OC] matrix (how a quantized kernel is stored) convolves as the [KW, KH, IC, OC]
     * kernel does: F32 to rounding, q8_0 and q4_0 within their quantization error; a matrix that does not hold the
     * input's channels is refused before ggml sees it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu:F32", "cpu:BF16", "cpu:Q8_0", "cpu:Q4_0", "vulkan:F32", "vulkan:Q8_0"})
    void conv2dMatrixMatchesTheKernelConvolution(String spec) {
        String backend = spec.split(":")[0];
        GgmlType type = GgmlType.valueOf(spec.split(":")[1]);
        int w = 9, h = 7, ic = 32, oc = 6, kk = 3, n = 2;
        float[] x = random(w * h * ic * n, 21);
        float[] k = random(kk * kk * ic * oc, 22);
        double[] ref = referenceConv(x, k, w, h, ic, oc, n, kk, 1, 1, v -> v);
        Backend be = Backends.get(backend);
        try (WeightStore ws = new WeightStore("conv", 1); Graph g = new Graph("conv"); Arena a = Arena.ofConfined()) {
            Tensor kt = ws.createKernelMatrix("k", type, new long[]{kk, kk, ic, oc});
            assertArrayEquals(new long[]{kk * kk * ic, oc, 1, 1}, kt.ne());
            assertArrayEquals(new long[]{kk, kk, ic, oc}, ws.kernelShape("k").orElseThrow());
            ws.allocate(be);
            MemorySegment src = a.allocateFrom(ValueLayout.JAVA_FLOAT, k);
            MemorySegment dst = a.allocate(kt.byteSize(), 64);
            TypeConverter.convert(src, GgmlType.F32, dst, type, oc, (long) kk * kk * ic, a);
            kt.write(dst, 0);
            Tensor xt = g.input("x", GgmlType.F32, w, h, ic, n);
            Tensor y = g.conv2dMatrix(kt, kk, kk, xt, 1, 1, 1, 1, 1, 1);
            assertArrayEquals(new long[]{w, h, oc, n}, y.ne());
            GgmlException bad = assertThrows(GgmlException.class, () -> g.conv2dMatrix(kt, 3, 3,
                    g.input("x2", GgmlType.F32, w, h, ic + 1, 1), 1, 1, 1, 1, 1, 1));
            assertTrue(bad.getMessage().contains("expected [" + (9 * (ic + 1)) + ", OC]"), bad.getMessage());
            assertThrows(GgmlException.class, () -> g.conv2dMatrix(kt, 3, 3,
                    g.input("x3", GgmlType.F32, 1, 1, ic, 1), 1, 1, 0, 0, 1, 1));
            try (CompiledGraph c = g.compile(be, y)) {
                xt.setFloats(x);
                c.compute();
                double err = relError(y.getFloats(), ref);
                double bound = switch (type) {
                    case F32 -> tolerance(backend, 1e-5);
                    case BF16 -> 1e-2; // activations go through BF16 too
                    case Q8_0 -> 2e-2; // activations go through q8_0 too
                    default -> 1.2e-1;
                };
                assertTrue(err <= bound, spec + ": " + err);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void upscaleNearest(String backend) {
        int w = 4, h = 3, c = 2;
        float[] x = random(w * h * c, 14);
        double[] ref = new double[4 * x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < 2 * h; y++) {
                for (int xx = 0; xx < 2 * w; xx++) {
                    ref[(ch * 2 * h + y) * 2 * w + xx] = x[(ch * h + y / 2) * w + xx / 2];
                }
            }
        }
        float[] y = run(backend, new long[][]{{w, h, c, 1}}, new float[][]{x}, (g, t) -> g.upscaleNearest(t[0], 2));
        assertTrue(relError(y, ref) == 0, backend + ": " + relError(y, ref));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void concatAlongChannels(String backend) {
        int w = 3, h = 2;
        float[] a = random(w * h * 2, 15);
        float[] b = random(w * h * 3, 16);
        double[] ref = new double[a.length + b.length];
        for (int i = 0; i < a.length; i++) {
            ref[i] = a[i];
        }
        for (int i = 0; i < b.length; i++) {
            ref[a.length + i] = b[i];
        }
        float[] y = run(backend, new long[][]{{w, h, 2, 1}, {w, h, 3, 1}}, new float[][]{a, b},
                (g, t) -> g.concat(t[0], t[1], 2));
        assertTrue(relError(y, ref) == 0, backend + ": " + relError(y, ref));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void permuteAndReshape(String backend) {
        int w = 4, h = 3, c = 5;
        float[] x = random(w * h * c, 17);
        // [W, H, C] → permute(1, 2, 0, 3) → [C, W, H] → reshape [C, W*H]
        double[] ref = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    ref[(y * w + xx) * c + ch] = x[(ch * h + y) * w + xx];
                }
            }
        }
        float[] y = run(backend, new long[][]{{w, h, c, 1}}, new float[][]{x},
                (g, t) -> g.reshape(g.cont(g.permute(t[0], 1, 2, 0, 3)), c, w * h, 1));
        assertTrue(relError(y, ref) == 0, backend + ": " + relError(y, ref));
    }

    /** Multi-head attention shaped like the U-Net's cross-attention (64 tokens attending to 77). */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "vulkan"})
    void attentionLikeUNet(String backend) {
        int c = 64, heads = 8, lq = 64, lk = 77, dh = c / heads;
        float[] q = random(c * lq, 18);
        float[] k = random(c * lk, 19);
        float[] v = random(c * lk, 20);
        double[] ref = new double[c * lq];
        for (int hd = 0; hd < heads; hd++) {
            for (int i = 0; i < lq; i++) {
                double[] logits = new double[lk];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double s = 0;
                    for (int d = 0; d < dh; d++) {
                        s += q[i * c + hd * dh + d] * k[j * c + hd * dh + d];
                    }
                    logits[j] = s / Math.sqrt(dh);
                    max = Math.max(max, logits[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    logits[j] = Math.exp(logits[j] - max);
                    sum += logits[j];
                }
                for (int d = 0; d < dh; d++) {
                    double o = 0;
                    for (int j = 0; j < lk; j++) {
                        o += logits[j] / sum * v[j * c + hd * dh + d];
                    }
                    ref[i * c + hd * dh + d] = o;
                }
            }
        }
        float[] y = run(backend, new long[][]{{c, lq, 1}, {c, lk, 1}, {c, lk, 1}}, new float[][]{q, k, v},
                (g, t) -> Layers.attention(g, t[0], t[1], t[2], heads, null));
        assertTrue(relError(y, ref) <= tolerance(backend, 1e-5), backend + ": " + relError(y, ref));
    }

    @Test
    void scopeNamesWeights() {
        try (WeightStore ws = new WeightStore("s", 2)) {
            ws.create("a.b.weight", GgmlType.F32, 4);
            Scope s = Scope.of(ws, "a.");
            assertTrue(s.sub("b").has("weight"));
            assertEquals(4, s.sub("b").get("weight").ne(0));
        }
    }
}
