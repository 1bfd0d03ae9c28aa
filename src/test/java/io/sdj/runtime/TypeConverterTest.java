package io.sdj.runtime;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the bytes that {@link TypeConverter} writes for quantized targets against block quantizers written here
 * from the formats' definitions. Q4_0 must come out of ggml's importance-weighted scale search (what
 * stable-diffusion.cpp gets by passing an all-ones importance matrix), not out of the plain max / -8 rounding.
 */
class TypeConverterTest {
    private static final int BLOCK = 32;
    private static final int ROW = 96;
    private static final int ROWS = 6;

    @Test
    void q4_0UsesTheWeightedScaleSearch() {
        float[] x = sample();
        byte[] actual = convert(x, GgmlType.Q4_0);
        byte[] weighted = new byte[actual.length];
        byte[] plain = new byte[actual.length];
        for (int r = 0; r < ROWS; r++) {
            float[] row = Arrays.copyOfRange(x, r * ROW, (r + 1) * ROW);
            weightedQ4_0Row(row, weighted, r * ROW / BLOCK * 18);
            plainQ4_0Row(row, plain, r * ROW / BLOCK * 18);
        }
        assertArrayEquals(weighted, actual, "Q4_0 blocks differ from the weighted scale search");
        assertFalse(Arrays.equals(plain, actual), "the sample must tell the weighted search from max / -8");
        assertTrue(weightedError(x, actual) < weightedError(x, plain),
                "the search must beat max / -8 on the error it minimizes");
    }

    /** Rounding.PLAIN (sdj's quantized convolution kernels) is ggml's reference max / -8 rounding. */
    @Test
    void plainRoundingIsTheReferenceQ4_0() {
        float[] x = sample();
        int rows = x.length / ROW;
        byte[] actual;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(GgmlType.Q4_0.rowBytes(ROW) * rows, 16);
            TypeConverter.convert(arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), GgmlType.F32, dst, GgmlType.Q4_0,
                    rows, ROW, arena, TypeConverter.Rounding.PLAIN);
            actual = dst.toArray(ValueLayout.JAVA_BYTE);
        }
        byte[] plain = new byte[actual.length];
        for (int r = 0; r < ROWS; r++) {
            plainQ4_0Row(Arrays.copyOfRange(x, r * ROW, (r + 1) * ROW), plain, r * ROW / BLOCK * 18);
        }
        assertArrayEquals(plain, actual, "Q4_0 blocks differ from max / -8");
    }

    @Test
    void q8_0IsThePlainRounding() {
        float[] x = sample();
        byte[] actual = convert(x, GgmlType.Q8_0);
        byte[] expected = new byte[actual.length];
        for (int b = 0; b < x.length / BLOCK; b++) {
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(x[b * BLOCK + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            putHalf(expected, b * 34, d);
            for (int j = 0; j < BLOCK; j++) {
                float v = x[b * BLOCK + j] * id;
                expected[b * 34 + 2 + j] = (byte) (Math.signum(v) * Math.floor(Math.abs((double) v) + 0.5));
            }
        }
        assertArrayEquals(expected, actual, "Q8_0 blocks differ from round(x * 127 / amax)");
    }

    @Test
    void allZeroBlockQuantizesToZero() {
        float[] x = new float[ROW];
        byte[] q = convert(x, GgmlType.Q4_0);
        for (byte b : q) {
            assertEquals(0, b);
        }
    }

    @Test
    void largeSourcesAreConvertedInSlicesWithTheSameBytes() {
        // 4200 rows of 1024: over 16 MiB as F32, so the F16 source is expanded in slices of rows and a rest
        int row = 1024;
        int rows = 4200;
        long n = (long) row * rows;
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f32 = arena.allocate(4 * n, 16);
            for (long i = 0; i < n; i++) {
                f32.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian() * (1 + i % 7));
            }
            MemorySegment f16 = arena.allocate(2 * n, 16);
            TypeConverter.convert(f32, GgmlType.F32, f16, GgmlType.F16, rows, row, arena);
            MemorySegment widened = arena.allocate(4 * n, 16); // the F16 values, expanded in one go by ggml itself
            io.sdj.ggml.ggml_h.ggml_fp16_to_fp32_row(f16, widened, n);
            for (GgmlType to : new GgmlType[]{GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.F32}) {
                MemorySegment whole = arena.allocate(to.rowBytes(row) * rows, 16);
                TypeConverter.convert(widened, GgmlType.F32, whole, to, rows, row, arena);
                try (ScratchSpace scratch = new ScratchSpace()) {
                    MemorySegment sliced = scratch.allocate(to.rowBytes(row) * rows, 16);
                    TypeConverter.convert(f16, GgmlType.F16, sliced, to, rows, row, scratch);
                    assertEquals(-1, whole.mismatch(sliced), "F16 -> " + to + " in slices differs from one go");
                    long temporary = scratch.capacity() - sliced.byteSize();
                    assertTrue(temporary < 4 * n * 6 / 10, "the F32 copy must not be of the whole tensor: " + temporary
                            + " bytes of scratch besides the target");
                }
            }
        }
    }

    /** Rows of normal values with per-row magnitudes and a few outliers, like real weight rows. */
    private static float[] sample() {
        Random rnd = new Random(20260819);
        float[] x = new float[ROWS * ROW];
        for (int r = 0; r < ROWS; r++) {
            float s = (float) Math.pow(10, -2 + r * 0.4);
            for (int i = 0; i < ROW; i++) {
                x[r * ROW + i] = (float) (rnd.nextGaussian() * s);
            }
            x[r * ROW + rnd.nextInt(ROW)] *= 6;
        }
        return x;
    }

    private static byte[] convert(float[] x, GgmlType type) {
        int rows = x.length / ROW;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(type.rowBytes(ROW) * rows, 16);
            TypeConverter.convert(arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), GgmlType.F32, dst, type, rows, ROW,
                    arena);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Q4_0 with unit importance: each element weighs sqrt(mean(row²) + x²); try the scales -(8 + k/10)/max for
     * k = 0, -9..9 with codes clamped to [-8, 7], keep the one maximizing (Σw·x·l)² / Σw·l², whose least-squares
     * scale Σw·x·l / Σw·l² becomes the block's d. Float arithmetic, round-half-even codes.
     */
    private static void weightedQ4_0Row(float[] row, byte[] out, int offset) {
        float sumX2 = 0;
        for (float v : row) {
            sumX2 += v * v;
        }
        float sigma2 = sumX2 / row.length;
        for (int b = 0; b < row.length / BLOCK; b++) {
            float[] x = Arrays.copyOfRange(row, b * BLOCK, (b + 1) * BLOCK);
            float[] w = new float[BLOCK];
            float max = 0;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                w[j] = (float) Math.sqrt(sigma2 + x[j] * x[j]);
                if (Math.abs(x[j]) > amax) {
                    amax = Math.abs(x[j]);
                    max = x[j];
                }
            }
            int o = offset + b * 18;
            if (amax < 1e-15f) {
                Arrays.fill(out, o, o + 18, (byte) 0);
                continue;
            }
            int[] best = codes(x, -8 / max);
            float[] sums = sums(x, w, best);
            float scale = sums[1] != 0 ? sums[0] / sums[1] : 0;
            float bestScore = scale * sums[0];
            for (int k = -9; k <= 9; k++) {
                if (k == 0) {
                    continue;
                }
                int[] l = codes(x, -(8 + 0.1f * k) / max);
                float[] s = sums(x, w, l);
                if (s[1] > 0 && s[0] * s[0] > bestScore * s[1]) {
                    best = l;
                    scale = s[0] / s[1];
                    bestScore = scale * s[0];
                }
            }
            putHalf(out, o, scale);
            for (int j = 0; j < 16; j++) {
                out[o + 2 + j] = (byte) ((best[j] + 8) | ((best[j + 16] + 8) << 4));
            }
        }
    }

    /** Reference Q4_0: d = max / -8 (max = the element of largest magnitude), codes truncate x/d + 8.5. */
    private static void plainQ4_0Row(float[] row, byte[] out, int offset) {
        for (int b = 0; b < row.length / BLOCK; b++) {
            float max = 0;
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                float v = row[b * BLOCK + j];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1 / d : 0;
            int o = offset + b * 18;
            putHalf(out, o, d);
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) (row[b * BLOCK + j] * id + 8.5f));
                int hi = Math.min(15, (int) (row[b * BLOCK + j + 16] * id + 8.5f));
                out[o + 2 + j] = (byte) (lo | (hi << 4));
            }
        }
    }

    private static int[] codes(float[] x, float iscale) {
        int[] l = new int[x.length];
        for (int j = 0; j < x.length; j++) {
            l[j] = Math.max(-8, Math.min(7, (int) Math.rint(iscale * x[j])));
        }
        return l;
    }

    /** {Σ w·x·l, Σ w·l²} accumulated in float, left to right. */
    private static float[] sums(float[] x, float[] w, int[] l) {
        float lx = 0;
        float l2 = 0;
        for (int j = 0; j < x.length; j++) {
            lx += w[j] * x[j] * l[j];
            l2 += w[j] * l[j] * l[j];
        }
        return new float[]{lx, l2};
    }

    /** Σ over blocks of Σ w·(x - d·(q - 8))² with the weights of the search, in double. */
    private static double weightedError(float[] x, byte[] q4) {
        double err = 0;
        for (int r = 0; r < ROWS; r++) {
            double sigma2 = 0;
            for (int i = 0; i < ROW; i++) {
                sigma2 += (double) x[r * ROW + i] * x[r * ROW + i];
            }
            sigma2 /= ROW;
            for (int i = 0; i < ROW; i++) {
                int b = (r * ROW + i) / BLOCK;
                int j = i % BLOCK;
                double d = Float.float16ToFloat((short) ((q4[b * 18] & 0xff) | (q4[b * 18 + 1] & 0xff) << 8));
                int packed = q4[b * 18 + 2 + j % 16] & 0xff;
                int code = (j < 16 ? packed & 15 : packed >> 4) - 8;
                double v = x[r * ROW + i];
                err += Math.sqrt(sigma2 + v * v) * Math.pow(v - d * code, 2);
            }
        }
        return err;
    }

    private static void putHalf(byte[] out, int offset, float v) {
        short h = Float.floatToFloat16(v);
        out[offset] = (byte) h;
        out[offset + 1] = (byte) (h >> 8);
    }
}
