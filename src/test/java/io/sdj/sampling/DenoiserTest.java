package io.sdj.sampling;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DenoiserTest {

    @Test
    void epsScalings() {
        Scalings s = Prediction.EPS.scalings(14.6123f);
        assertEquals(1f, s.cSkip(), 0f);
        assertEquals(-14.6123f, s.cOut(), 0f);
        assertEquals(1 / Math.sqrt(14.6123 * 14.6123 + 1), s.cIn(), 1e-8);
    }

    @Test
    void vScalingsRecoverTheCleanSignalForAPerfectModel() {
        float sigma = 3.0f;
        Scalings s = Prediction.V.scalings(sigma);
        assertEquals(0.1f, s.cSkip(), 1e-7f);
        assertEquals(-3 / Math.sqrt(10), s.cOut(), 1e-7);
        assertEquals(s.cIn(), Prediction.EPS.scalings(sigma).cIn(), 0f);
        // k-diffusion v: x = x0 + sigma*eps, v-target = (eps - sigma*x0/... ) in the scaled space:
        // with alpha = 1/sqrt(1+s^2): v = alpha*eps*... ; check D = cOut*v + cSkip*x reproduces x0 for v = c_in*(s*x0... )
        float x0 = 0.7f;
        float eps = -1.3f;
        float x = x0 + sigma * eps;
        float alpha = (float) (1 / Math.sqrt(1 + sigma * sigma));
        float v = alpha * eps - alpha * sigma * x0; // v = sqrt(abar)*eps - sqrt(1-abar)*x0 with abar = alpha^2
        float d = Denoiser.denoised(new float[] {v}, new float[] {x}, s)[0];
        assertEquals(x0, d, 1e-5f);
    }

    @Test
    void epsDenoisedSubtractsScaledNoise() {
        float sigma = 2f;
        float[] x = {1f, -3f};
        float[] eps = {0.5f, 0.25f};
        float[] d = Denoiser.denoised(eps, x, Prediction.EPS.scalings(sigma));
        assertArrayEquals(new float[] {0f, -3.5f}, d, 0f);
    }

    @Test
    void initialLatentIsNoiseTimesSigma() {
        float[] noise = RngKind.CUDA.create(42).randn(64);
        float sigma = 14.6123f;
        float[] x = Denoiser.noiseLatent(null, noise, sigma);
        for (int i = 0; i < noise.length; i++) {
            assertEquals(noise[i] * sigma, x[i], 0f);
        }
        float[] init = new float[64];
        java.util.Arrays.fill(init, 0.25f);
        float[] y = Denoiser.noiseLatent(init, noise, sigma);
        assertEquals(0.25f + noise[3] * sigma, y[3], 0f);
        assertThrows(InvalidParameterException.class, () -> Denoiser.noiseLatent(new float[3], noise, sigma));
    }

    @Test
    void guidanceAndInputScale() {
        float[] cond = {1f, 2f};
        float[] uncond = {0.5f, 2.5f};
        assertArrayEquals(new float[] {0.5f + 7f * 0.5f, 2.5f + 7f * -0.5f}, Denoiser.guidance(cond, uncond, 7f), 0f);
        assertArrayEquals(cond, Denoiser.guidance(cond, null, 7f), 0f);
        assertArrayEquals(new float[] {0.5f, 1f}, Denoiser.scale(cond, 0.5f), 0f);
    }

    @Test
    void denoiserBindsTableAndPrediction() {
        Denoiser d = new Denoiser(SigmaTable.ldmLinear(), Prediction.EPS);
        float[] sigmas = d.sigmas(Scheduler.DISCRETE, 2);
        assertEquals(d.table().sigmaMax(), sigmas[0], 1e-5f);
        assertEquals(999f, d.timestep(sigmas[0]), 1e-3f);
        assertEquals(0f, d.timestep(sigmas[1]), 1e-3f);
        assertThrows(InvalidParameterException.class, () -> new Denoiser(null, Prediction.EPS));
    }
}
