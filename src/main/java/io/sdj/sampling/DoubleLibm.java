package io.sdj.sampling;

/**
 * The places where sd.cpp calls the unqualified C functions ({@code log}, {@code exp}, {@code pow}, ...) on float
 * values. With GCC/libstdc++ and only {@code <cmath>} included, those name the double functions: the argument is
 * widened, the function and any following arithmetic in the same expression run in double, and the value is rounded
 * to float where it is stored. (Calls written {@code std::log(x)} with a float {@code x} are float functions; see
 * {@link FloatMath}.)
 */
final class DoubleLibm {
    private DoubleLibm() {
    }

    /** sd.cpp's {@code t_fn}: {@code (float) -log((double) sigma)}. */
    static float negLog(float sigma) {
        return (float) -StrictMath.log(sigma);
    }

    /** sd.cpp's {@code sigma_fn}: {@code (float) exp((double) -t)}. */
    static float expNeg(float t) {
        return (float) StrictMath.exp(-t);
    }

    /** {@code float b = exp(x) - 1.f;}: {@code (float) (exp((double) x) - 1.0)}. */
    static float expMinusOne(float x) {
        return (float) (StrictMath.exp(x) - 1.0);
    }
}
