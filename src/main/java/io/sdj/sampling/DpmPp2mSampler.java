package io.sdj.sampling;

/**
 * {@code dpm++2m} and {@code dpm++2mv2}: DPM-Solver++(2M), one model call per step. With {@code t = -ln sigma},
 * {@code h = t_next - t}, {@code a = sigma_next / sigma}, {@code b = exp(-h) - 1}: the first and the last step are
 * first order ({@code x = a x - b D}); the others use {@code D' = (1 + 1/(2r)) D - (1/(2r)) D_prev} with
 * {@code r = h_last / h}. The v2 variant takes {@code r = max(h_last, h) / min(h_last, h)} and
 * {@code b = exp(-(h_last + h)/2) - 1} for those steps.
 */
final class DpmPp2mSampler extends Sampler {
    private final boolean v2;

    DpmPp2mSampler(boolean v2) {
        this.v2 = v2;
    }

    @Override
    public SamplerKind kind() {
        return v2 ? SamplerKind.DPMPP2MV2 : SamplerKind.DPMPP2M;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        int n = x.length;
        float[] oldDen = null;
        for (int i = 0; i < steps; i++) {
            float[] den = run.denoise(x, sigmas[i]);
            float t = DoubleLibm.negLog(sigmas[i]);
            float tNext = DoubleLibm.negLog(sigmas[i + 1]);
            float h = tNext - t;
            float a = sigmas[i + 1] / sigmas[i];
            if (i == 0 || sigmas[i + 1] == 0) {
                float b = DoubleLibm.expMinusOne(-h);
                for (int j = 0; j < n; j++) {
                    x[j] = a * x[j] - b * den[j];
                }
            } else {
                float hLast = t - DoubleLibm.negLog(sigmas[i - 1]);
                float r;
                float b;
                if (v2) {
                    float hMin = Math.min(hLast, h);
                    float hMax = Math.max(hLast, h);
                    r = hMax / hMin;
                    float hD = (hMax + hMin) / 2.f;
                    b = DoubleLibm.expMinusOne(-hD);
                } else {
                    r = hLast / h;
                    b = DoubleLibm.expMinusOne(-h);
                }
                float w1 = 1.f + 1.f / (2.f * r);
                float w2 = 1.f / (2.f * r);
                for (int j = 0; j < n; j++) {
                    float dD = w1 * den[j] - w2 * oldDen[j];
                    x[j] = a * x[j] - b * dD;
                }
            }
            oldDen = den;
            run.stepDone(i, sigmas[i], x, den);
        }
        return x;
    }
}
