package io.sdj.sampling;

/**
 * The single-precision libm functions sd.cpp's sampling code calls ({@code std::log(float)}, {@code std::exp},
 * {@code sqrtf}, ...), evaluated as the correctly rounded float result: the argument is widened, the function is
 * computed with {@link StrictMath} (platform-independent) and rounded once to float. {@code sqrt} is exact either
 * way; glibc's {@code logf}/{@code expf}/{@code sinf}/{@code cosf} are not always correctly rounded and differ from
 * this by one ulp for roughly 0.1-1.3% of arguments (measured against glibc 2.36), which is far below anything
 * visible in an image.
 */
final class FloatMath {
    private FloatMath() {
    }

    static float log(float x) {
        return (float) StrictMath.log(x);
    }

    static float exp(float x) {
        return (float) StrictMath.exp(x);
    }

    static float sqrt(float x) {
        return (float) StrictMath.sqrt(x);
    }

    static float sin(float x) {
        return (float) StrictMath.sin(x);
    }

    static float cos(float x) {
        return (float) StrictMath.cos(x);
    }

    static float tan(float x) {
        return (float) StrictMath.tan(x);
    }

    static float atan(float x) {
        return (float) StrictMath.atan(x);
    }

    /** {@code std::min(a, b)}: {@code (b < a) ? b : a} (differs from {@link Math#min} for NaN). */
    static float cMin(float a, float b) {
        return b < a ? b : a;
    }

    /** {@code std::max(a, b)}: {@code (a < b) ? b : a} (differs from {@link Math#max} for NaN). */
    static float cMax(float a, float b) {
        return a < b ? b : a;
    }

    /** C {@code roundf}: halfway cases away from zero. */
    static float round(float x) {
        float t = (float) StrictMath.floor(Math.abs(x));
        if (Math.abs(x) - t >= 0.5f) {
            t += 1.0f;
        }
        return Math.copySign(t, x);
    }
}
