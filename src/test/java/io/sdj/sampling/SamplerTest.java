package io.sdj.sampling;

import io.sdj.InvalidParameterException;
import io.sdj.SdjException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static final int N = 64;
    private final SigmaTable table = SigmaTable.fromAlphasCumprod(SigmaTableTest.f16RoundedLdmAlphasCumprod());

    private static float[] start(long seed, float sigma) {
        return Denoiser.noiseLatent(null, RngKind.CUDA.create(seed).randn(N), sigma);
    }

    /** Counts calls of a model. */
    private static final class Counting implements ModelFn {
        final ModelFn inner;
        final List<Float> sigmas = new ArrayList<>();

        Counting(ModelFn inner) {
            this.inner = inner;
        }

        @Override
        public float[] denoise(float[] x, float sigma) {
            sigmas.add(sigma);
            return inner.denoise(x, sigma);
        }
    }

    private static ModelFn constant(float c) {
        return (x, sigma) -> {
            float[] out = new float[x.length];
            Arrays.fill(out, c);
            return out;
        };
    }

    /** The exact denoiser for data ~ N(0, s^2): D(x, sigma) = x s^2 / (s^2 + sigma^2). */
    private static ModelFn gaussian(double s) {
        return (x, sigma) -> {
            float[] out = new float[x.length];
            double k = s * s / (s * s + (double) sigma * sigma);
            for (int i = 0; i < x.length; i++) {
                out[i] = (float) (x[i] * k);
            }
            return out;
        };
    }

    @Test
    void deterministicSamplersReachTheConstantTarget() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(6, table);
        for (SamplerKind kind : new SamplerKind[] {SamplerKind.EULER, SamplerKind.HEUN, SamplerKind.DPM2,
            SamplerKind.DPMPP2M, SamplerKind.DPMPP2MV2, SamplerKind.IPNDM, SamplerKind.IPNDM_V,
            SamplerKind.DDIM_TRAILING}) {
            float[] out = Sampler.of(kind).sample(constant(0.3f), start(1, sigmas[0]), sigmas, null, null, null);
            for (float v : out) {
                assertEquals(0.3f, v, 1e-5f, kind.cliName());
            }
        }
    }

    @Test
    void zeroDenoiserShrinksToZero() {
        float[] sigmas = Scheduler.KARRAS.sigmas(5, table);
        for (SamplerKind kind : new SamplerKind[] {SamplerKind.EULER, SamplerKind.HEUN, SamplerKind.DPMPP2M,
            SamplerKind.LCM, SamplerKind.EULER_A, SamplerKind.DPMPP2S_A}) {
            float[] out = Sampler.of(kind).sample(constant(0f), start(2, sigmas[0]), sigmas,
                    RngKind.CUDA.create(2), null, null);
            for (float v : out) {
                assertEquals(0f, v, 1e-5f, kind.cliName());
            }
        }
    }

    @Test
    void eulerStepFollowsTheOdeExactly() {
        float[] sigmas = {10f, 4f, 0f};
        float[] x = {5f, -2f};
        float c = 1f;
        float[] out = Sampler.of(SamplerKind.EULER).sample(constant(c), x, sigmas, null, null, null);
        // step 1: x + (x - c)/10 * (4 - 10); step 2 lands on c
        float x1 = 5f + ((5f - c) / 10f) * (4f - 10f);
        assertEquals(2.6f, x1, 1e-6f);
        assertArrayEquals(new float[] {1f, 1f}, out, 1e-6f);
        assertArrayEquals(new float[] {5f, -2f}, x, 0f, "input is not modified");
    }

    @Test
    void callCounts() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(5, table);
        int steps = 5;
        assertEquals(steps, calls(SamplerKind.EULER, sigmas));
        assertEquals(steps, calls(SamplerKind.EULER_A, sigmas));
        assertEquals(2 * steps - 1, calls(SamplerKind.HEUN, sigmas), "heun: 2 per step, 1 for the last");
        assertEquals(2 * steps - 1, calls(SamplerKind.DPM2, sigmas));
        assertEquals(2 * steps - 1, calls(SamplerKind.DPMPP2S_A, sigmas));
        assertEquals(steps, calls(SamplerKind.DPMPP2M, sigmas));
        assertEquals(steps, calls(SamplerKind.LCM, sigmas));
        assertEquals(steps, calls(SamplerKind.IPNDM, sigmas));
        assertEquals(steps, calls(SamplerKind.TCD, sigmas));
    }

    private int calls(SamplerKind kind, float[] sigmas) {
        Counting m = new Counting(gaussian(0.5));
        Sampler.of(kind).sample(m, start(3, sigmas[0]), sigmas, RngKind.CUDA.create(3), null, null);
        return m.sigmas.size();
    }

    @Test
    void heunEvaluatesAtBothEndsOfEachStep() {
        float[] sigmas = {8f, 2f, 0.5f, 0f};
        Counting m = new Counting(gaussian(1.0));
        Sampler.of(SamplerKind.HEUN).sample(m, start(4, 8f), sigmas, null, null, null);
        assertEquals(List.of(8f, 2f, 2f, 0.5f, 0.5f), m.sigmas);
    }

    @Test
    void dpm2EvaluatesAtTheLogMidpoint() {
        float[] sigmas = {8f, 2f, 0f};
        Counting m = new Counting(gaussian(1.0));
        Sampler.of(SamplerKind.DPM2).sample(m, start(4, 8f), sigmas, null, null, null);
        assertEquals(3, m.sigmas.size());
        assertEquals(4f, m.sigmas.get(1), 1e-5f);
    }

    @Test
    void eulerAncestralDrawsOneNoisePerNonFinalStep() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(4, table);
        float[] x0 = start(42, sigmas[0]);
        CudaRng rng = new CudaRng();
        rng.seed(42);
        rng.randn(N); // the initial noise, as sd.cpp draws it from the same generator
        float[] out = Sampler.of(SamplerKind.EULER_A).sample(constant(0f), x0, sigmas, rng, null, null);
        assertEquals(1 + 3, rng.offset(), "initial noise + one draw for each of the first 3 steps");

        CudaRng replay = new CudaRng();
        replay.seed(42);
        float[] x = replay.randn(N);
        for (int j = 0; j < N; j++) {
            x[j] = x[j] * sigmas[0];
        }
        for (int i = 0; i < 4; i++) {
            if (sigmas[i + 1] == 0) {
                Arrays.fill(x, 0f);
                continue;
            }
            AncestralStep a = AncestralStep.of(sigmas[i], sigmas[i + 1], 1f);
            float r = a.sigmaDown() / sigmas[i];
            float[] noise = replay.randn(N);
            for (int j = 0; j < N; j++) {
                x[j] = r * x[j] + (1f - r) * 0f + noise[j] * a.sigmaUp();
            }
        }
        assertArrayEquals(x, out, 0f);
    }

    @Test
    void ancestralStepSplitsTheVariance() {
        AncestralStep a = AncestralStep.of(10f, 4f, 1f);
        assertEquals(16f, a.sigmaDown() * a.sigmaDown() + a.sigmaUp() * a.sigmaUp(), 1e-4f);
        assertEquals(Math.sqrt(16 * (100 - 16) / 100.0), a.sigmaUp(), 1e-5);
        AncestralStep none = AncestralStep.of(10f, 4f, 0f);
        assertEquals(4f, none.sigmaDown(), 0f);
        assertEquals(0f, none.sigmaUp(), 0f);
    }

    @Test
    void lcmRenoisesWithTheNextSigma() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(4, table);
        CudaRng rng = new CudaRng();
        rng.seed(9);
        float[] x0 = Denoiser.noiseLatent(null, rng.randn(N), sigmas[0]);
        List<float[]> inputs = new ArrayList<>();
        ModelFn m = (x, sigma) -> {
            inputs.add(x.clone());
            return constant(0.5f).denoise(x, sigma);
        };
        float[] out = Sampler.of(SamplerKind.LCM).sample(m, x0, sigmas, rng, null, null);
        assertEquals(4, rng.offset());
        CudaRng replay = new CudaRng();
        replay.seed(9);
        replay.randn(N);
        for (int i = 1; i < 4; i++) {
            float[] noise = replay.randn(N);
            for (int j = 0; j < N; j++) {
                assertEquals(0.5f + noise[j] * sigmas[i], inputs.get(i)[j], 0f);
            }
        }
        for (float v : out) {
            assertEquals(0.5f, v, 0f);
        }
    }

    @Test
    void ddimTrailingIsDeterministicByDefault() {
        float[] sigmas = Scheduler.SIMPLE.sigmas(5, table);
        CudaRng rng = new CudaRng();
        Sampler ddim = SamplerKind.DDIM_TRAILING.create();
        assertEquals(0f, ddim.eta(), 0f);
        ddim.sample(gaussian(0.5), start(5, sigmas[0]), sigmas, rng, null, null);
        assertEquals(0, rng.offset());
        Sampler noisy = Sampler.of(SamplerKind.DDIM_TRAILING, 1f);
        noisy.sample(gaussian(0.5), start(5, sigmas[0]), sigmas, rng, null, null);
        assertEquals(4, rng.offset());
    }

    @Test
    void dpmpp2sAncestralDrawsEvenWithZeroEta() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(4, table);
        CudaRng rng = new CudaRng();
        Sampler.of(SamplerKind.DPMPP2S_A, 0f).sample(gaussian(0.5), start(6, sigmas[0]), sigmas, rng, null, null);
        assertEquals(3, rng.offset());
    }

    @Test
    void tcdMovesToTheNextTimestepWithoutNoiseByDefault() {
        float[] sigmas = Scheduler.LCM.sigmas(4, table);
        CudaRng rng = new CudaRng();
        Sampler.of(SamplerKind.TCD).sample(constant(0.2f), start(7, sigmas[0]), sigmas, rng, null, null);
        assertEquals(0, rng.offset());
        assertEquals(0, TcdSampler.timestepFromSigma(0f));
        assertEquals(999, TcdSampler.timestepFromSigma(1000f));
        assertEquals(499, TcdSampler.timestepFromSigma(table.sigma(499)), "nearest table sigma");

        // one step to sigma 0 ends at timestep 0 of TCD's own table: x = sqrt(a0) D + sqrt(1 - a0) (x - D) / sigma
        float beta0 = FloatMath.sqrt(0.00085f);
        float a0 = (float) (1.0 - (double) beta0 * beta0);
        float[] x = {3f, -1f};
        float[] out = Sampler.of(SamplerKind.TCD).sample(constant(0.2f), x, new float[] {2f, 0f}, null, null, null);
        for (int j = 0; j < 2; j++) {
            float d = (x[j] - 0.2f) / 2f;
            assertEquals(FloatMath.sqrt(a0 / 1f) * 0.2f + FloatMath.sqrt((1f - a0) / 1f) * d, out[j], 0f);
        }
    }

    /**
     * For data ~ N(0, s^2) the probability-flow ODE has the closed form x(sigma) = x(sigma0) sqrt((s^2 + sigma^2) /
     * (s^2 + sigma0^2)); Euler must follow its own linear recursion and the second-order samplers must land much
     * closer to the exact solution.
     */
    @Test
    void odeSamplersConvergeOnGaussianData() {
        double s = 0.5;
        float[] sigmas = Scheduler.KARRAS.sigmas(12, table);
        float[] x0 = start(11, sigmas[0]);
        double scale = s / Math.sqrt(s * s + (double) sigmas[0] * sigmas[0]);
        double eulerScale = 1;
        for (int i = 0; i < 12; i++) {
            double sig = sigmas[i];
            double k = s * s / (s * s + sig * sig);
            eulerScale += eulerScale * (1 - k) / sig * (sigmas[i + 1] - sig);
        }
        float[] eulerOut = Sampler.of(SamplerKind.EULER).sample(gaussian(s), x0, sigmas, null, null, null);
        for (int i = 0; i < N; i++) {
            assertEquals(x0[i] * eulerScale, eulerOut[i], Math.abs(x0[i] * eulerScale) * 1e-4 + 1e-6);
        }
        double euler = maxError(SamplerKind.EULER, x0, sigmas, scale, s);
        double heun = maxError(SamplerKind.HEUN, x0, sigmas, scale, s);
        double dpm2 = maxError(SamplerKind.DPM2, x0, sigmas, scale, s);
        double dpmpp2m = maxError(SamplerKind.DPMPP2M, x0, sigmas, scale, s);
        double dpmpp2mv2 = maxError(SamplerKind.DPMPP2MV2, x0, sigmas, scale, s);
        double ipndm = maxError(SamplerKind.IPNDM, x0, sigmas, scale, s);
        double ipndmV = maxError(SamplerKind.IPNDM_V, x0, sigmas, scale, s);
        String all = "euler " + euler + ", heun " + heun + ", dpm2 " + dpm2 + ", dpm++2m " + dpmpp2m
                + ", dpm++2mv2 " + dpmpp2mv2 + ", ipndm " + ipndm + ", ipndm_v " + ipndmV;
        assertTrue(euler > 0.05 && euler < 0.2, all);
        assertTrue(heun < euler / 3, all);
        assertTrue(dpm2 < euler / 3, all);
        assertTrue(dpmpp2m < euler / 3, all);
        assertTrue(dpmpp2mv2 < euler, all);
        assertTrue(ipndm < euler / 2, all);
        assertTrue(ipndmV < euler / 2, all);
    }

    private static double maxError(SamplerKind kind, float[] x0, float[] sigmas, double scale, double s) {
        float[] out = Sampler.of(kind).sample(gaussian(s), x0, sigmas, null, null, null);
        double max = 0;
        for (int i = 0; i < out.length; i++) {
            max = Math.max(max, Math.abs(out[i] - x0[i] * scale) / (Math.abs(x0[i] * scale) + 1e-3));
        }
        return max;
    }

    @Test
    void eulerAncestralVarianceFollowsItsRecursion() {
        // With the exact Gaussian denoiser each step maps var -> (r + (1-r) k)^2 var + up^2 (k = s^2/(s^2+sigma^2),
        // r = down/sigma) and the last step var -> k^2 var; the sampled variance must follow that.
        int n = 1 << 15;
        double s = 0.5;
        float[] sigmas = Scheduler.DISCRETE.sigmas(20, table);
        double expected = (double) sigmas[0] * sigmas[0];
        for (int i = 0; i < 20; i++) {
            double sig = sigmas[i];
            double k = s * s / (s * s + sig * sig);
            if (sigmas[i + 1] == 0) {
                expected *= k * k;
                continue;
            }
            AncestralStep a = AncestralStep.of(sigmas[i], sigmas[i + 1], 1f);
            double r = a.sigmaDown() / sig;
            expected = Math.pow(r + (1 - r) * k, 2) * expected + (double) a.sigmaUp() * a.sigmaUp();
        }
        CudaRng rng = new CudaRng();
        rng.seed(3);
        float[] x = Denoiser.noiseLatent(null, rng.randn(n), sigmas[0]);
        float[] out = Sampler.of(SamplerKind.EULER_A).sample(gaussian(s), x, sigmas, rng, null, null);
        double var = 0;
        for (float v : out) {
            var += (double) v * v;
        }
        var /= n;
        assertEquals(expected, var, expected * 0.03);
        assertTrue(expected < s * s, "20 Euler-ancestral steps under-shoot the data variance");
    }

    @Test
    void cancellationStopsBeforeTheNextModelCall() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(5, table);
        Counting m = new Counting(gaussian(0.5));
        AtomicInteger polls = new AtomicInteger();
        SamplingCancelledException e = assertThrows(SamplingCancelledException.class,
                () -> Sampler.of(SamplerKind.HEUN).sample(m, start(8, sigmas[0]), sigmas, null, null,
                        () -> m.sigmas.size() >= 3 && polls.incrementAndGet() > 0));
        assertEquals(3, m.sigmas.size());
        assertEquals(1, e.completedSteps());
    }

    @Test
    void listenerSeesEveryStep() {
        float[] sigmas = Scheduler.DISCRETE.sigmas(3, table);
        List<SamplingStep> seen = new ArrayList<>();
        float[] out = Sampler.of(SamplerKind.HEUN).sample(gaussian(0.5), start(8, sigmas[0]), sigmas, null,
                seen::add, () -> false);
        assertEquals(3, seen.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i + 1, seen.get(i).step());
            assertEquals(3, seen.get(i).steps());
            assertEquals(sigmas[i], seen.get(i).sigma(), 0f);
        }
        assertEquals(List.of(2, 4, 5), seen.stream().map(SamplingStep::modelCalls).toList());
        assertArrayEquals(out, seen.get(2).latent(), 0f);
    }

    @Test
    void identityModelMayReturnItsInput() {
        float[] sigmas = {5f, 1f, 0f};
        float[] x = {1f, 2f, 3f};
        ModelFn identity = (in, sigma) -> in;
        assertArrayEquals(x, Sampler.of(SamplerKind.DPMPP2M).sample(identity, x, sigmas, null, null, null), 1e-6f);
        assertArrayEquals(x, Sampler.of(SamplerKind.IPNDM).sample(identity, x, sigmas, null, null, null), 1e-6f);
    }

    @Test
    void badInputsAreReported() {
        float[] sigmas = {5f, 1f, 0f};
        assertThrows(SdjException.class, () -> Sampler.of(SamplerKind.EULER)
                .sample((x, s) -> new float[1], new float[4], sigmas, null, null, null));
        assertThrows(SdjException.class, () -> Sampler.of(SamplerKind.EULER_A)
                .sample(constant(0f), new float[4], sigmas, null, null, null), "ancestral sampler without RNG");
        assertThrows(InvalidParameterException.class, () -> Sampler.of(SamplerKind.EULER)
                .sample(constant(0f), new float[4], new float[] {1f, Float.NaN}, null, null, null));
        assertThrows(InvalidParameterException.class, () -> Sampler.of(SamplerKind.EULER_A, -1f));
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> SamplerKind.fromName("euler-a"));
        assertEquals("sampling-method", e.parameter());
        assertTrue(e.getMessage().contains("euler, euler_a, heun, dpm2, dpm++2s_a, dpm++2m, dpm++2mv2, ipndm, "
                + "ipndm_v, lcm, ddim_trailing, tcd"), e.getMessage());
    }

    @Test
    void namesAndDefaults() {
        for (SamplerKind k : SamplerKind.values()) {
            assertEquals(k, SamplerKind.fromName(k.cliName()));
            assertEquals(k, Sampler.of(k).kind());
        }
        assertEquals(1f, SamplerKind.EULER_A.defaultEta(), 0f);
        assertEquals(1f, SamplerKind.DPMPP2S_A.defaultEta(), 0f);
        assertEquals(0f, SamplerKind.TCD.defaultEta(), 0f);
        assertEquals("euler_a(eta=1.0)", Sampler.of(SamplerKind.EULER_A).toString());
    }
}
