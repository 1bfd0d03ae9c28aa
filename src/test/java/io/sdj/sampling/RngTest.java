package io.sdj.sampling;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RngTest {

    @Test
    void cudaSeedZeroMatchesReferenceValues() {
        float[] v = new CudaRng().randn(4);
        // REFERENCE-NOTES (float32 evaluation): -0.92466241, -0.42534393, -2.6438458, 0.14518386. sd.cpp evaluates the
        // Box-Muller logarithm, square root and sine in double, which moves some elements by one ulp.
        float[] reference = {(float) -0.92466241, (float) -0.42534393, (float) -2.6438458, (float) 0.14518386};
        for (int i = 0; i < 4; i++) {
            assertEquals(reference[i], v[i], Math.ulp(reference[i]), "element " + i);
        }
        assertArrayEquals(new float[] {-0.9246625f, -0.42534396f, -2.6438458f, 0.14518386f}, v, 0f);
    }

    @Test
    void cudaElementDependsOnlyOnIndexAndCallCount() {
        CudaRng rng = new CudaRng();
        rng.seed(42);
        float[] first = rng.randn(8);
        assertEquals(1, rng.offset());
        float[] second = rng.randn(8);
        assertEquals(2, rng.offset());
        assertFalse(java.util.Arrays.equals(first, second), "each call advances the Philox offset");

        rng.seed(42);
        float[] longer = rng.randn(16);
        for (int i = 0; i < 8; i++) {
            assertEquals(first[i], longer[i], 0f, "element " + i + " uses counter [offset, 0, i, 0]");
        }
        rng.seed(42);
        assertArrayEquals(first, rng.randn(8));
    }

    @Test
    void cudaSeedUsesHigh32BitsAsSecondKeyWord() {
        float[] low = RngKind.CUDA.create(5).randn(4);
        float[] high = RngKind.CUDA.create(5L | (1L << 32)).randn(4);
        assertFalse(java.util.Arrays.equals(low, high));
    }

    @Test
    void cpuMatchesTorchForSmallCount() {
        float[] v = new CpuRng().randn(3);
        assertArrayEquals(new float[] {1.5410f, -0.2934f, -2.1788f}, v, 1e-4f);
    }

    @Test
    void cpuMatchesTorchForSixteen() {
        float[] v = new CpuRng().randn(16);
        float[] torch = {-1.1258f, -1.1524f, -0.2506f, -0.4339f, 0.8487f, 0.6920f, -0.3160f, -2.1152f,
            0.3223f, -1.2633f, 0.3500f, 0.3081f, 0.1198f, 1.2377f, 1.1168f, -0.2473f};
        assertArrayEquals(torch, v, 1e-4f);
    }

    @Test
    void cpuTailOfNonMultipleOfSixteenIsRedrawn() {
        float[] sixteen = new CpuRng().randn(16);
        float[] seventeen = new CpuRng().randn(17);
        assertEquals(sixteen[0], seventeen[0], 0f, "the first element keeps its uniforms");
        assertFalse(sixteen[1] == seventeen[1], "the last 16 slots get fresh uniforms");
    }

    @Test
    void cpuSmallCallsShareTheCachedBoxMullerValue() {
        CpuRng a = new CpuRng();
        a.seed(123);
        float x0 = a.randn(1)[0];
        float x1 = a.randn(1)[0];
        CpuRng b = new CpuRng();
        b.seed(123);
        assertArrayEquals(new float[] {x0, x1}, b.randn(2));
    }

    @Test
    void stdDefaultMatchesLibstdcxx() {
        // Produced by g++ 12 / libstdc++: default_random_engine seeded (unsigned) seed, a fresh
        // normal_distribution<float> per call (as sd.cpp's randn does), 7 values then 3 values.
        assertStd(0, new float[] {-0x1.094fbap-2f, 0x1.9a01fp+0f, -0x1.7fbbecp+0f, 0x1.65ec88p-3f, 0x1.e88168p-4f,
            -0x1.35459p-2f, 0x1.d52d72p-2f}, new float[] {0x1.947434p-2f, -0x1.2f56ep+1f, 0x1.6a0f5cp-5f});
        assertStd(42, new float[] {-0x1.cd7062p-1f, 0x1.caf614p-1f, -0x1.33e50ap+0f, -0x1.f5eb46p-2f,
            0x1.77da62p-7f, 0x1.c5bf92p-2f, -0x1.ad52cep+0f}, new float[] {-0x1.c357c4p-4f, 0x1.d711dep-1f,
            -0x1.9fb57ap-1f});
        assertStd(0x1234567890L, new float[] {-0x1.1ff22p-1f, -0x1.184c54p+0f, -0x1.4944fap+0f, 0x1.b722a8p-2f,
            -0x1.4f239p+0f, 0x1.e61f76p-1f, 0x1.c276e2p-1f}, new float[] {0x1.547286p-3f, 0x1.38aef2p+0f,
            0x1.abe1fep+0f});
    }

    private static void assertStd(long seed, float[] first, float[] second) {
        Rng rng = RngKind.STD_DEFAULT.create(seed);
        assertArrayEquals(first, rng.randn(7), 0f, "seed " + seed);
        assertArrayEquals(second, rng.randn(3), 0f, "seed " + seed + " second call");
    }

    @Test
    void kindsByName() {
        assertEquals(RngKind.CUDA, RngKind.fromName("cuda"));
        assertEquals(RngKind.CPU, RngKind.fromName("cpu"));
        assertEquals(RngKind.STD_DEFAULT, RngKind.fromName("std_default"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> RngKind.fromName("gpu"));
        assertEquals("rng", e.parameter());
        assertTrue(e.getMessage().contains("std_default, cuda, cpu"), e.getMessage());
        assertEquals(RngKind.CPU, RngKind.CPU.create(1).kind());
    }

    @Test
    void negativeCountIsRejected() {
        assertThrows(InvalidParameterException.class, () -> new CudaRng().randn(-1));
        assertEquals(0, new CpuRng().randn(0).length);
    }
}
