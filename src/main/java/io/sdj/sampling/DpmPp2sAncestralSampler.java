package io.sdj.sampling;

/**
 * {@code dpm++2s_a} (eta 1 by default): DPM-Solver++(2S) to the ancestral {@code sigma_down} with a midpoint model
 * call at {@code sigma_s = exp(-(t + h/2))} ({@code t = -ln sigma}), then {@code randn(n) * sigma_up} whenever
 * {@code sigma_next > 0} (the draw happens even when {@code sigma_up} is 0). When {@code sigma_down == 0} the step
 * is {@code x = D}. Up to {@code 2 * steps - 1} model calls.
 */
final class DpmPp2sAncestralSampler extends Sampler {
    private final float eta;

    DpmPp2sAncestralSampler(float eta) {
        this.eta = eta;
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.DPMPP2S_A;
    }

    @Override
    public float eta() {
        return eta;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        int n = x.length;
        float[] x2 = new float[n];
        for (int i = 0; i < steps; i++) {
            float sigma = sigmas[i];
            float[] den = run.denoise(x, sigma);
            AncestralStep a = AncestralStep.of(sigma, sigmas[i + 1], eta);
            if (a.sigmaDown() == 0) {
                System.arraycopy(den, 0, x, 0, n);
            } else {
                float t = DoubleLibm.negLog(sigma);
                float tNext = DoubleLibm.negLog(a.sigmaDown());
                float h = tNext - t;
                float s = t + 0.5f * h;
                float sigmaS = DoubleLibm.expNeg(s);
                float sigmaT = DoubleLibm.expNeg(t);
                float c1 = sigmaS / sigmaT;
                float c2 = (float) (StrictMath.exp(-h * 0.5f) - 1);
                for (int j = 0; j < n; j++) {
                    x2[j] = c1 * x[j] - c2 * den[j];
                }
                float[] den2 = run.denoise(x2, sigmaS);
                float c3 = DoubleLibm.expNeg(tNext) / sigmaT;
                float c4 = (float) (StrictMath.exp(-h) - 1);
                for (int j = 0; j < n; j++) {
                    x[j] = c3 * x[j] - c4 * den2[j];
                }
                den = den2;
            }
            if (sigmas[i + 1] > 0) {
                float[] noise = run.noise();
                float up = a.sigmaUp();
                for (int j = 0; j < n; j++) {
                    x[j] += noise[j] * up;
                }
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
