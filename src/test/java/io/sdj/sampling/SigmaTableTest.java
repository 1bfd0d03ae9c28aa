package io.sdj.sampling;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SigmaTableTest {

    /** The LDM schedule in double, stored as f16(f32(v)) like checkpoints (and RandomSd15) store it, read back. */
    static float[] f16RoundedLdmAlphasCumprod() {
        double start = Math.sqrt(0.00085);
        double end = Math.sqrt(0.012);
        double prod = 1.0;
        float[] out = new float[SigmaTable.TIMESTEPS];
        for (int i = 0; i < out.length; i++) {
            double b = start + (end - start) * i / (out.length - 1);
            prod *= 1.0 - b * b;
            out[i] = Float.float16ToFloat(Float.floatToFloat16((float) prod));
        }
        return out;
    }

    @Test
    void f16TableMatchesTheGoldenModelFile() {
        float[] ac = f16RoundedLdmAlphasCumprod();
        // golden/README: alphas_cumprod[0] = 0x3bfe, [999] = 0x1cc6
        assertEquals((short) 0x3bfe, Float.floatToFloat16(ac[0]));
        assertEquals((short) 0x1cc6, Float.floatToFloat16(ac[999]));
        SigmaTable t = SigmaTable.fromAlphasCumprod(ac);
        assertEquals(14.6123, t.sigmaMax(), 1e-4);
        assertEquals(0.031265, t.sigmaMin(), 1e-6);
    }

    @Test
    void computedTableMatchesLdmEndpoints() {
        SigmaTable t = SigmaTable.ldmLinear();
        assertEquals(14.6146, t.sigmaMax(), 1e-3);
        assertEquals(0.029168, t.sigmaMin(), 2e-6);
        float[] s = t.sigmas();
        for (int i = 1; i < s.length; i++) {
            assertTrue(s[i] > s[i - 1], "sigmas increase with t at " + i);
        }
    }

    @Test
    void timestepSigmaRoundTrip() {
        SigmaTable t = SigmaTable.fromAlphasCumprod(f16RoundedLdmAlphasCumprod());
        for (int ts : new int[] {0, 1, 250, 499, 759, 998, 999}) {
            float sigma = t.tToSigma(ts);
            assertEquals(t.sigma(ts), sigma, Math.ulp(sigma) * 2, "t_to_sigma(" + ts + ")");
            assertEquals(ts, t.sigmaToT(sigma), 2e-3, "sigma_to_t(sigma(" + ts + "))");
        }
        float mid = t.tToSigma(499.5f);
        assertTrue(mid > t.sigma(499) && mid < t.sigma(500));
        assertEquals(499.5f, t.sigmaToT(mid), 2e-3);
    }

    @Test
    void sigmaToTClampsOutsideTheTable() {
        SigmaTable t = SigmaTable.ldmLinear();
        assertEquals(0f, t.sigmaToT(1e-4f), 0f);
        assertEquals(0f, t.sigmaToT(0f), 0f);
        assertEquals(999f, t.sigmaToT(100f), 0f);
    }

    @Test
    void slightlyNegativeTimestepReadsSigmaMaxAsSdCppDoes() {
        // sd.cpp's discrete schedule ends at t = -6.1035156e-5 for e.g. 22 steps and then interpolates between
        // log_sigmas[-1] (= sigmas[999] in its memory layout) and log_sigmas[0].
        SigmaTable t = SigmaTable.ldmLinear();
        float tNeg = -6.1035156e-5f;
        float w = tNeg - (-1f);
        float expected = FloatMath.exp((1.0f - w) * t.sigmaMax() + w * t.logSigmas()[0]);
        assertEquals(expected, t.tToSigma(tNeg), 0f);
        assertTrue(t.tToSigma(tNeg) > t.sigmaMin());
        assertThrows(InvalidParameterException.class, () -> t.tToSigma(-1f));
        assertThrows(InvalidParameterException.class, () -> t.tToSigma(999.5f));
        assertThrows(InvalidParameterException.class, () -> t.tToSigma(Float.NaN));
    }

    @Test
    void invalidAlphasAreRejected() {
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SigmaTable.fromAlphasCumprod(new float[999]));
        assertEquals("alphas_cumprod", e.parameter());
        float[] bad = f16RoundedLdmAlphasCumprod();
        bad[10] = 0f;
        e = assertThrows(InvalidParameterException.class, () -> SigmaTable.fromAlphasCumprod(bad));
        assertTrue(e.getMessage().contains("value 10"), e.getMessage());
    }
}
