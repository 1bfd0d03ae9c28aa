package io.sdj.runtime;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CPU backend's BLAS partner: the provisioned runtime has one, the scheduler hands it the large products and
 * keeps the rest on the CPU, and the results agree with ggml's own kernels (closer to exact, since sgemm does not
 * round the right operand to F16); a product with quantized weights keeps the whole graph on the CPU.
 */
class BlasTest {
    private static Backend blas() {
        Backend b = Backends.get("cpu");
        assumeTrue(b.hasBlas(), "this runtime has no BLAS backend");
        return b;
    }

    @Test
    void theProvisionedRuntimeHasOpenBlas() {
        Path env = GgmlLibrary.load().libraryDir().resolve("../../../runtime.env").normalize();
        assumeTrue(Files.isRegularFile(env) && "prefix".equals(RuntimeLocator.readEnv(env).get("mode")),
                "not the provisioned Debian prefix");
        Backend cpu = Backends.get("cpu");
        assertTrue(cpu.hasBlas(), "native/provision.sh installs libggml0-backend-blas and OpenBLAS");
        assertTrue(cpu.matrixProducts().startsWith("OpenBLAS"), cpu.matrixProducts());
        assertFalse(Backends.cpuWithoutBlas().hasBlas());
        assertTrue(Backends.cpuWithoutBlas().matrixProducts().contains("ggml"));
    }

    private static float f16(float v) {
        return Float.float16ToFloat(Float.floatToFloat16(v));
    }

    /** x · wᵀ + 1 in doubles, with w as the F16 values it holds (and x too when {@code roundX}). */
    private static double[] reference(float[] w, float[] x, int k, int n, int m, boolean roundX) {
        double[] y = new double[n * m];
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (double) f16(w[i * k + c]) * (roundX ? f16(x[j * k + c]) : x[j * k + c]);
                }
                y[j * n + i] = s + 1;
            }
        }
        return y;
    }

    private record Result(float[] out, int splits, long measured, long allocated, boolean blas) {
    }

    private static Result product(Backend be, int k, int n, int m, float[] w, float[] x) {
        return product(be, GgmlType.F16, k, n, m, w, x);
    }

    private static Result product(Backend be, GgmlType type, int k, int n, int m, float[] w, float[] x) {
        try (Graph g = new Graph("product", be)) {
            Tensor wt = g.input("w", type, k, n);
            Tensor xt = g.input("x", GgmlType.F32, k, m);
            Tensor one = g.input("one", GgmlType.F32, 1);
            Tensor y = g.add(g.mulMat(wt, xt), one);
            long measured = g.measureComputeBytes(be, y);
            try (CompiledGraph c = g.compile(be, y)) {
                if (type == GgmlType.F16) {
                    wt.setFloats(w);
                } else {
                    try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                        var dst = a.allocate(wt.byteSize(), 64);
                        TypeConverter.convert(a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, w), GgmlType.F32,
                                dst, type, n, k, a);
                        wt.write(dst, 0);
                    }
                }
                xt.setFloats(x);
                one.setFloats(new float[]{1});
                c.compute();
                return new Result(y.getFloats(), c.splitCount(), measured, c.computeBytes(), c.usesBlas());
            }
        }
    }

    @Test
    void largeProductsGoToBlasAndAreCloserToExact() {
        Backend be = blas();
        int k = 320;
        int n = 64;
        int m = 96;
        float[] w = OpsTest.random(k * n, 1);
        float[] x = OpsTest.random(k * m, 2);
        double[] exact = reference(w, x, k, n, m, false);
        Result viaBlas = product(be, k, n, m, w, x);
        Result ggml = product(Backends.cpuWithoutBlas(), k, n, m, w, x);
        assertTrue(viaBlas.blas() && viaBlas.splits() >= 2, "the product on BLAS, the addition on the CPU: "
                + viaBlas.splits());
        assertEquals(1, ggml.splits());
        assertFalse(ggml.blas());
        double eb = OpsTest.relError(viaBlas.out(), exact);
        double eg = OpsTest.relError(ggml.out(), exact);
        assertTrue(eb < 1e-5, "sgemm in F32: " + eb);
        assertTrue(eg > eb && eg < 2e-3, "ggml rounds x to F16: " + eg + " vs BLAS " + eb);
        assertTrue(OpsTest.relError(ggml.out(), reference(w, x, k, n, m, true)) < 1e-4,
                "ggml's kernels multiply x rounded to F16");
        assertEquals(viaBlas.measured(), viaBlas.allocated(), "measuring gives what compiling allocates");
    }

    @Test
    void aProductWithQuantizedWeightsKeepsTheGraphOnTheCpuBitForBit() {
        Backend be = blas();
        int k = 512; // a whole number of Q4_K's 256-wide blocks
        int n = 64;
        int m = 96;
        float[] w = OpsTest.random(k * n, 9);
        float[] x = OpsTest.random(k * m, 10);
        for (GgmlType type : new GgmlType[]{GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K}) {
            Result r = product(be, type, k, n, m, w, x);
            Result ggml = product(Backends.cpuWithoutBlas(), type, k, n, m, w, x);
            assertFalse(r.blas(), type + ": BLAS would multiply unquantized activations");
            assertEquals(1, r.splits());
            assertArrayEquals(ggml.out(), r.out(), type + ": the same bits as without BLAS");
            assertEquals(r.measured(), r.allocated(), "measuring follows the same choice");
        }
        assertTrue(product(be, k, n, m, w, x).blas(), "the F16 product of the same shape does go to BLAS");
    }

    @Test
    void blasUseAllHandsQuantizedProductsToBlasToo() {
        try (Backend all = Backend.open("cpu", BlasUse.ALL)) {
            assumeTrue(all.hasBlas(), "this runtime has no BLAS backend");
            all.setThreads(2);
            assertEquals(BlasUse.ALL, all.blasUse());
            int k = 512;
            float[] w = OpsTest.random(k * 64, 11);
            float[] x = OpsTest.random(k * 96, 12);
            Result r = product(all, GgmlType.Q8_0, k, 64, 96, w, x);
            Result ggml = product(Backends.cpuWithoutBlas(), GgmlType.Q8_0, k, 64, 96, w, x);
            assertTrue(r.blas() && r.splits() >= 2, "the q8_0 product on BLAS: " + r.splits());
            // sgemm multiplies the dequantized weights by unquantized activations: close, not the same bits
            assertTrue(OpsTest.relError(r.out(), toDouble(ggml.out())) < 2e-2);
        }
        assertEquals(BlasUse.OFF, Backends.cpuWithoutBlas().blasUse());
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    @Test
    void theSystemPropertyNamesTheDefault() {
        String old = System.getProperty("sdj.blas");
        try {
            System.setProperty("sdj.blas", "false");
            assertEquals(BlasUse.OFF, BlasUse.byDefault());
            System.setProperty("sdj.blas", "true");
            assertEquals(BlasUse.UNQUANTIZED, BlasUse.byDefault());
            System.setProperty("sdj.blas", " All ");
            assertEquals(BlasUse.ALL, BlasUse.byDefault());
            System.setProperty("sdj.blas", "maybe");
            InvalidParameterException e = assertThrows(InvalidParameterException.class, BlasUse::byDefault);
            assertTrue(e.getMessage().contains("sdj.blas") && e.getMessage().contains("unquantized"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("sdj.blas");
            } else {
                System.setProperty("sdj.blas", old);
            }
        }
    }

    @Test
    void smallProductsStayOnTheCpu() {
        Backend be = blas();
        // ggml's BLAS backend takes a product only when both sides are at least 32 wide
        Result r = product(be, 320, 16, 8, OpsTest.random(320 * 16, 3), OpsTest.random(320 * 8, 4));
        assertEquals(1, r.splits());
        assertTrue(OpsTest.relError(r.out(), reference(OpsTest.random(320 * 16, 3), OpsTest.random(320 * 8, 4),
                320, 16, 8, true)) < 1e-4);
    }

    @Test
    void aGraphBuiltForBlasConvolvesAsAMatrixProduct() {
        Backend be = blas();
        long[] kernel = {3, 3, 32, 48};
        long[] image = {20, 12, 32, 1};
        float[] kd = OpsTest.random(3 * 3 * 32 * 48, 5);
        float[] id = OpsTest.random(20 * 12 * 32, 6);
        float[][] out = new float[2][];
        int[] splits = new int[2];
        Backend[] backends = {be, Backends.cpuWithoutBlas()};
        for (int i = 0; i < 2; i++) {
            try (Graph g = new Graph("conv", backends[i])) {
                Tensor kt = g.input("k", GgmlType.F16, kernel);
                Tensor it = g.input("x", GgmlType.F32, image);
                Tensor y = g.conv2d(kt, it, 1, 1, 1, 1, 1, 1);
                try (CompiledGraph c = g.compile(backends[i], y)) {
                    kt.setFloats(kd);
                    it.setFloats(id);
                    c.compute();
                    out[i] = y.getFloats();
                    splits[i] = c.splitCount();
                }
            }
        }
        assertTrue(splits[0] >= 2, "im2col on the CPU, the product on BLAS: " + splits[0]);
        double e = OpsTest.relError(out[0], toDouble(out[1]));
        assertTrue(e < 2e-3, "BLAS's matrix convolution against ggml_conv_2d: " + e);
    }

    /** A BLAS graph's convolution with its columns capped at {@code bandBytes}: output and compute bytes. */
    private static Object[] bandedConv(Backend be, long bandBytes, long[] kernel, long[] image, int stride, int pad,
                                       int dil) {
        try (Graph g = new Graph("conv", be)) {
            g.bandColumnBytes(bandBytes);
            Tensor kt = g.input("k", GgmlType.F16, kernel);
            Tensor it = g.input("x", GgmlType.F32, image);
            Tensor y = g.conv2d(kt, it, stride, stride, pad, pad, dil, dil);
            long measured = g.measureComputeBytes(be, y);
            try (CompiledGraph c = g.compile(be, y)) {
                kt.setFloats(OpsTest.random((int) (kernel[0] * kernel[1] * kernel[2] * kernel[3]), 13));
                it.setFloats(OpsTest.random((int) (image[0] * image[1] * image[2] * image[3]), 14));
                c.compute();
                return new Object[]{y.getFloats(), measured, y.ne()};
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"1,1,1", "2,0,1", "1,2,2", "2,1,1"})
    void largeConvolutionsRunInBandsOfRowsWithTheSameResult(int stride, int pad, int dil) {
        Backend be = blas();
        long[] kernel = {3, 3, 32, 40};
        long[] image = {37, 45, 32, 2};
        Object[] whole = bandedConv(be, Long.MAX_VALUE, kernel, image, stride, pad, dil);
        // one output row's columns: 288 · OW · 2 · 4 bytes; a budget of 3 rows gives many bands, the last one short
        long ow = (37 + 2L * pad - dil * 2L - 1) / stride + 1;
        Object[] banded = bandedConv(be, 288 * ow * 2 * 4 * 3, kernel, image, stride, pad, dil);
        assertArrayEquals((long[]) whole[2], (long[]) banded[2], "output shape");
        double e = OpsTest.relError((float[]) banded[0], toDouble((float[]) whole[0]));
        assertTrue(e <= 1e-6, "bands change the sums: " + e);
        assertTrue((long) banded[1] < (long) whole[1], "bands bound the columns: " + banded[1] + " vs " + whole[1]);
    }

    /**
     * The bands are written into one output tensor: with many bands (here 15) the graph holds the output about once,
     * not a second, growing copy of it per band.
     */
    @Test
    void bandsAreAssembledInOneOutput() {
        Backend be = blas();
        long[] kernel = {3, 3, 8, 160};
        long[] image = {37, 45, 8, 1};
        long outputBytes = 37L * 45 * 160 * Float.BYTES;
        Object[] whole = bandedConv(be, Long.MAX_VALUE, kernel, image, 1, 1, 1);
        Object[] banded = bandedConv(be, 72L * 37 * 4 * 3, kernel, image, 1, 1, 1); // 3 rows of columns a band
        double e = OpsTest.relError((float[]) banded[0], toDouble((float[]) whole[0]));
        assertTrue(e <= 1e-6, "bands change the sums: " + e);
        assertTrue((long) banded[1] < outputBytes * 3 / 2, "compute " + banded[1] + " B for a " + outputBytes
                + " B output");
    }

    @Test
    void threadCountsReachBothBackends() {
        Backend be = Backend.open("cpu", true);
        try (be) {
            assumeTrue(be.hasBlas(), "this runtime has no BLAS backend");
            be.setThreads(1);
            assertEquals(1, be.threads());
            Result r = product(be, 64, 64, 64, OpsTest.random(64 * 64, 7), OpsTest.random(64 * 64, 8));
            assertTrue(r.splits() >= 2);
        } finally {
            Backends.get("cpu").setThreads(2); // OpenBLAS's count is process-wide
        }
    }

    @Test
    void blasIsNotABackendOfItsOwn() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> Backend.open("blas"));
        assertTrue(e.getMessage().contains("--backend cpu") && e.getMessage().contains("--no-blas"), e.getMessage());
    }
}
