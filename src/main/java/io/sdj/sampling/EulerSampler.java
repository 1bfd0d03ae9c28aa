package io.sdj.sampling;

/** {@code euler}: {@code d = (x - D) / sigma}, {@code x += d * (sigma_next - sigma)}; one model call per step, no noise. */
final class EulerSampler extends Sampler {

    @Override
    public SamplerKind kind() {
        return SamplerKind.EULER;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            float sigma = sigmas[i];
            float[] den = run.denoise(x, sigma);
            float dt = sigmas[i + 1] - sigma;
            for (int j = 0; j < x.length; j++) {
                float d = (x[j] - den[j]) / sigma;
                x[j] += d * dt;
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
