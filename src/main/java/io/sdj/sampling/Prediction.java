package io.sdj.sampling;

/**
 * What the U-Net predicts, which fixes the {@link Scalings} (sd.cpp's {@code CompVisDenoiser} and
 * {@code CompVisVDenoiser}, sigma_data = 1, float arithmetic).
 */
public enum Prediction {
    /** Noise (SD1.x, SD2 base): {@code cSkip = 1, cOut = -sigma, cIn = 1 / sqrt(sigma^2 + 1)}. */
    EPS,
    /**
     * Velocity (SD2 768-v): {@code cSkip = 1 / (sigma^2 + 1)}, {@code cOut = -sigma / sqrt(sigma^2 + 1)},
     * {@code cIn = 1 / sqrt(sigma^2 + 1)}.
     */
    V;

    private static final float SIGMA_DATA = 1.0f;

    /** The scalings for {@code sigma}. */
    public Scalings scalings(float sigma) {
        float sumSq = sigma * sigma + SIGMA_DATA * SIGMA_DATA;
        float cIn = 1.0f / FloatMath.sqrt(sumSq);
        return switch (this) {
            case EPS -> new Scalings(1.0f, -sigma, cIn);
            case V -> new Scalings(SIGMA_DATA * SIGMA_DATA / sumSq, -sigma * SIGMA_DATA / FloatMath.sqrt(sumSq), cIn);
        };
    }
}
