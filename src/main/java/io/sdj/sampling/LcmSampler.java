package io.sdj.sampling;

/**
 * {@code lcm}: {@code x = D}, then, when {@code sigma_next > 0}, {@code x += randn(n) * sigma_next} (one draw per
 * step but the last). sd.cpp's optional {@code noise_clip_std} / {@code noise_scale_*} extra arguments are not
 * supported; their defaults reduce to this.
 */
final class LcmSampler extends Sampler {

    @Override
    public SamplerKind kind() {
        return SamplerKind.LCM;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            float[] den = run.denoise(x, sigmas[i]);
            System.arraycopy(den, 0, x, 0, x.length);
            float sigmaNext = sigmas[i + 1];
            if (sigmaNext > 0) {
                float[] noise = run.noise();
                float scale = sigmaNext * 1.0f;
                for (int j = 0; j < x.length; j++) {
                    x[j] += noise[j] * scale;
                }
            }
            run.stepDone(i, sigmas[i], x, den);
        }
        return x;
    }
}
