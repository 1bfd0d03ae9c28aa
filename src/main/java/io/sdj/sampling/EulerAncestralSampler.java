package io.sdj.sampling;

/**
 * {@code euler_a} (eta 1 by default) and {@code ddim_trailing} (the same update with eta 0 by default; sd.cpp
 * implements DDIM as Euler ancestral since its 2026 sampler unification). Per step:
 * <ul>
 *   <li>{@code sigma_next == 0}: {@code x = D};</li>
 *   <li>{@code eta == 0}: {@code r = sigma_next / sigma}, {@code x = r*x + (1-r)*D};</li>
 *   <li>otherwise {@code (down, up) = }{@link AncestralStep}, {@code r = down / sigma},
 *       {@code x = r*x + (1-r)*D}, then if {@code up > 0}: {@code x += randn(n) * up} (one draw).</li>
 * </ul>
 */
final class EulerAncestralSampler extends Sampler {
    private final SamplerKind kind;
    private final float eta;

    EulerAncestralSampler(SamplerKind kind, float eta) {
        this.kind = kind;
        this.eta = eta;
    }

    @Override
    public SamplerKind kind() {
        return kind;
    }

    @Override
    public float eta() {
        return eta;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            float sigma = sigmas[i];
            float sigmaTo = sigmas[i + 1];
            float[] den = run.denoise(x, sigma);
            if (sigmaTo == 0.f) {
                System.arraycopy(den, 0, x, 0, x.length);
            } else if (eta == 0.f) {
                blend(x, den, sigmaTo / sigma);
            } else {
                AncestralStep a = AncestralStep.of(sigma, sigmaTo, eta);
                blend(x, den, a.sigmaDown() / sigma);
                if (a.sigmaUp() > 0.f) {
                    float[] noise = run.noise();
                    float up = a.sigmaUp();
                    for (int j = 0; j < x.length; j++) {
                        x[j] += noise[j] * up;
                    }
                }
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }

    /** {@code x = r*x + (1-r)*den}. */
    private static void blend(float[] x, float[] den, float ratio) {
        float rest = 1.0f - ratio;
        for (int j = 0; j < x.length; j++) {
            x[j] = ratio * x[j] + rest * den[j];
        }
    }
}
