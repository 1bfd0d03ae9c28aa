package io.sdj.sampling;

/**
 * sd.cpp's {@code get_ancestral_step} (non-flow models), float arithmetic:
 * {@code up = min(to, eta * sqrt(max(to^2 (from^2 - to^2) / from^2, 0)))}, {@code down = sqrt(to^2 - up^2)} (0 when
 * that is not positive); {@code eta <= 0} gives {@code down = to, up = 0}.
 *
 * @param sigmaDown the deterministic target sigma
 * @param sigmaUp   the standard deviation of the fresh noise
 */
record AncestralStep(float sigmaDown, float sigmaUp) {

    static AncestralStep of(float sigmaFrom, float sigmaTo, float eta) {
        float up = 0.0f;
        if (eta <= 0.0f) {
            return new AncestralStep(sigmaTo, up);
        }
        float fromSq = sigmaFrom * sigmaFrom;
        float toSq = sigmaTo * sigmaTo;
        if (fromSq > 0.0f) {
            float term = toSq * (fromSq - toSq) / fromSq;
            up = FloatMath.cMin(sigmaTo, eta * FloatMath.sqrt(FloatMath.cMax(term, 0.0f)));
        }
        float downSq = toSq - up * up;
        float down = downSq > 0.0f ? FloatMath.sqrt(downSq) : 0.0f;
        return new AncestralStep(down, up);
    }
}
