package io.sdj.sampling;

/**
 * {@code ipndm} and {@code ipndm_v}: improved pseudo linear multistep (Adams–Bashforth up to 4th order on the
 * slopes {@code d = (x - D) / sigma}), one model call per step. {@code ipndm} uses the fixed-step coefficients;
 * {@code ipndm_v} uses the variable-step form for the second order
 * ({@code ((2 + h/h_prev) d - (h/h_prev) d_prev) / 2}) and the fixed ones above it.
 */
final class IpndmSampler extends Sampler {
    private static final int MAX_ORDER = 4;
    private final boolean variableStep;

    IpndmSampler(boolean variableStep) {
        this.variableStep = variableStep;
    }

    @Override
    public SamplerKind kind() {
        return variableStep ? SamplerKind.IPNDM_V : SamplerKind.IPNDM;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        int n = x.length;
        float[][] hist = new float[MAX_ORDER - 1][];
        int histSize = 0;
        for (int i = 0; i < steps; i++) {
            float sigma = sigmas[i];
            float sigmaNext = sigmas[i + 1];
            float[] den = run.denoise(x, sigma);
            float[] dCur = new float[n];
            derivative(x, den, sigma, dCur);
            int order = Math.min(MAX_ORDER, i + 1);
            float h = sigmaNext - sigma;
            float[] h1 = histSize >= 1 ? hist[histSize - 1] : null;
            float[] h2 = histSize >= 2 ? hist[histSize - 2] : null;
            float[] h3 = histSize >= 3 ? hist[histSize - 3] : null;
            switch (order) {
                case 1 -> {
                    for (int j = 0; j < n; j++) {
                        x[j] += dCur[j] * h;
                    }
                }
                case 2 -> {
                    if (variableStep) {
                        float hPrev = sigma - sigmas[i - 1];
                        float ratio = h / hPrev;
                        float w = 2.f + ratio;
                        for (int j = 0; j < n; j++) {
                            x[j] += ((w * dCur[j] - ratio * h1[j]) / 2.f) * h;
                        }
                    } else {
                        for (int j = 0; j < n; j++) {
                            x[j] += ((3.f * dCur[j] - h1[j]) / 2.f) * h;
                        }
                    }
                }
                case 3 -> {
                    for (int j = 0; j < n; j++) {
                        x[j] += ((23.f * dCur[j] - 16.f * h1[j] + 5.f * h2[j]) / 12.f) * h;
                    }
                }
                default -> {
                    for (int j = 0; j < n; j++) {
                        x[j] += ((55.f * dCur[j] - 59.f * h1[j] + 37.f * h2[j] - 9.f * h3[j]) / 24.f) * h;
                    }
                }
            }
            if (histSize == MAX_ORDER - 1) {
                System.arraycopy(hist, 1, hist, 0, MAX_ORDER - 2);
                histSize--;
            }
            hist[histSize++] = dCur;
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
