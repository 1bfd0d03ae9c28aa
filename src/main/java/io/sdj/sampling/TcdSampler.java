package io.sdj.sampling;

/**
 * {@code tcd} (Trajectory Consistency Distillation; eta 0 by default in sd.cpp). It uses its own fixed
 * scaled-linear {@code alphas_cumprod} (computed in double from float betas, independent of the model file) to map
 * the next sigma to a timestep {@code prev_t} (nearest table sigma), moves to {@code s = floor((1 - eta) * prev_t)}:
 * {@code x = sqrt(a_s / a_prev) D + sqrt((1 - a_s) / a_prev) d} with {@code d = (x - D) / sigma} and
 * {@code a_prev = 1 / (sigma_next^2 + 1)}, and for {@code eta > 0} and {@code sigma_next > 0} re-noises:
 * {@code x = sqrt(a_prev / a_s) x + sqrt(1 / a_prev - 1 / a_s) randn(n)}.
 */
final class TcdSampler extends Sampler {
    private static final int TIMESTEPS = SigmaTable.TIMESTEPS;
    private static final double[] ALPHAS_CUMPROD = new double[TIMESTEPS];
    private static final double[] COMPVIS_SIGMAS = new double[TIMESTEPS];

    static {
        float betaStart = 0.00085f;
        float betaEnd = 0.0120f;
        float sqrtStart = FloatMath.sqrt(betaStart);
        float sqrtEnd = FloatMath.sqrt(betaEnd);
        for (int i = 0; i < TIMESTEPS; i++) {
            float beta = sqrtStart + (sqrtEnd - sqrtStart) * ((float) i / (TIMESTEPS - 1));
            double prev = i == 0 ? 1.0 : ALPHAS_CUMPROD[i - 1];
            ALPHAS_CUMPROD[i] = prev * (1.0 - (double) beta * beta);
            COMPVIS_SIGMAS[i] = StrictMath.sqrt((1 - ALPHAS_CUMPROD[i]) / ALPHAS_CUMPROD[i]);
        }
    }

    private final float eta;

    TcdSampler(float eta) {
        this.eta = eta;
    }

    @Override
    public SamplerKind kind() {
        return SamplerKind.TCD;
    }

    @Override
    public float eta() {
        return eta;
    }

    /** Index of the table sigma nearest to {@code s} (ties to the lower index), as sd.cpp's lower_bound search. */
    static int timestepFromSigma(float s) {
        double sd = s;
        int lo = 0;
        int hi = TIMESTEPS;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (COMPVIS_SIGMAS[mid] < sd) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo == 0) {
            return 0;
        }
        if (lo == TIMESTEPS) {
            return TIMESTEPS - 1;
        }
        if (Math.abs(COMPVIS_SIGMAS[lo] - sd) < Math.abs(COMPVIS_SIGMAS[lo - 1] - sd)) {
            return lo;
        }
        return lo - 1;
    }

    @Override
    float[] run(SamplingRun run, float[] x, float[] sigmas) {
        int steps = sigmas.length - 1;
        int n = x.length;
        for (int i = 0; i < steps; i++) {
            float sigmaTo = sigmas[i + 1];
            int prevTimestep = timestepFromSigma(sigmaTo);
            int timestepS = (int) StrictMath.floor((1 - eta) * prevTimestep);
            float sigma = sigmas[i];
            float[] den = run.denoise(x, sigma);
            float alphaProdTPrev = 1.0f / (sigmaTo * sigmaTo + 1.0f);
            float alphaProdS = (float) ALPHAS_CUMPROD[timestepS];
            float betaProdS = 1.0f - alphaProdS;
            float cDen = FloatMath.sqrt(alphaProdS / alphaProdTPrev);
            float cD = FloatMath.sqrt(betaProdS / alphaProdTPrev);
            for (int j = 0; j < n; j++) {
                float d = (x[j] - den[j]) / sigma;
                x[j] = cDen * den[j] + cD * d;
            }
            if (eta > 0 && sigmaTo > 0.0f) {
                float[] noise = run.noise();
                float cX = FloatMath.sqrt(alphaProdTPrev / alphaProdS);
                float cN = FloatMath.sqrt(1.0f / alphaProdTPrev - 1.0f / alphaProdS);
                for (int j = 0; j < n; j++) {
                    x[j] = cX * x[j] + cN * noise[j];
                }
            }
            run.stepDone(i, sigma, x, den);
        }
        return x;
    }
}
