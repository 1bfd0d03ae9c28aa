package io.sdj.sampling;

/**
 * {@code heun}: an Euler predictor to {@code sigma_next}, a second model call there and the averaged slope
 * {@code (d + d2) / 2}; the last step (to sigma 0) is plain Euler. {@code 2 * steps - 1} model calls.
 */
final class HeunSampler extends Sampler {

    @Override
    public SamplerKind kind() {
        return SamplerKind.HEUN;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        int n = x.length;
        float[] d = new float[n];
        float[] x2 = new float[n];
        for (int i = 0; i < steps; i++) {
            float sigma = sigmas[i];
            float sigmaNext = sigmas[i + 1];
            float[] den = run.denoise(x, sigma);
            derivative(x, den, sigma, d);
            float dt = sigmaNext - sigma;
            if (sigmaNext == 0) {
                for (int j = 0; j < n; j++) {
                    x[j] += d[j] * dt;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    x2[j] = x[j] + d[j] * dt;
                }
                float[] den2 = run.denoise(x2, sigmaNext);
                for (int j = 0; j < n; j++) {
                    float dAvg = (d[j] + (x2[j] - den2[j]) / sigmaNext) / 2.0f;
                    x[j] += dAvg * dt;
                }
                den = den2;
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
