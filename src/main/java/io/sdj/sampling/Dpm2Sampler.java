package io.sdj.sampling;

/**
 * {@code dpm2}: a half step in log-sigma to {@code sigma_mid = exp((ln sigma + ln sigma_next) / 2)}, then the full
 * step with the slope measured there; the last step is plain Euler. {@code 2 * steps - 1} model calls.
 */
final class Dpm2Sampler extends Sampler {

    @Override
    public SamplerKind kind() {
        return SamplerKind.DPM2;
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
            if (sigmaNext == 0) {
                float dt = sigmaNext - sigma;
                for (int j = 0; j < n; j++) {
                    x[j] += d[j] * dt;
                }
            } else {
                // unqualified exp/log on floats in sd.cpp: evaluated in double, rounded once
                float sigmaMid = (float) StrictMath.exp(0.5f * (StrictMath.log(sigma) + StrictMath.log(sigmaNext)));
                float dt1 = sigmaMid - sigma;
                float dt2 = sigmaNext - sigma;
                for (int j = 0; j < n; j++) {
                    x2[j] = x[j] + d[j] * dt1;
                }
                float[] den2 = run.denoise(x2, sigmaMid);
                for (int j = 0; j < n; j++) {
                    x[j] += ((x2[j] - den2[j]) / sigmaMid) * dt2;
                }
                den = den2;
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
