package io.sdj.sampling;

/**
 * The arithmetic of each {@link Scheduler}, in sd.cpp's order of float operations. All results have
 * {@code n + 1} entries ending in 0 unless noted.
 */
final class SigmaSchedules {
    private static final int T_MAX = SigmaTable.TIMESTEPS - 1;

    /** Align-Your-Steps reference noise levels for SD1.5 (NVIDIA's published 10-step schedule). */
    private static final float[] AYS_SD15 = {
        14.6146412293f, 6.4745760956f, 3.8636745985f, 2.6946151520f,
        1.8841921177f, 1.3943805092f, 0.9642583904f, 0.6523686016f,
        0.3977456272f, 0.1515232662f, 0.0291671582f,
    };

    private SigmaSchedules() {
    }

    static float[] discrete(int n, SigmaTable table) {
        if (n == 0) {
            return new float[0];
        }
        float[] out = new float[n + 1];
        if (n == 1) {
            out[0] = table.tToSigma((float) T_MAX);
            return out;
        }
        float step = (float) T_MAX / (float) (n - 1);
        for (int i = 0; i < n; i++) {
            float t = T_MAX - step * i;
            out[i] = table.tToSigma(t);
        }
        return out;
    }

    /**
     * Karras rho = 7. sd.cpp divides by {@code n - 1}, which makes its 1-step schedule NaN; here one step gives
     * {@code [sigma_max, 0]}.
     */
    static float[] karras(int n, float sigmaMin, float sigmaMax) {
        float[] out = new float[n + 1];
        if (n == 0) {
            return out;
        }
        if (n == 1) {
            out[0] = sigmaMax;
            return out;
        }
        float rho = 7.f;
        if (sigmaMin <= 1e-6f) {
            sigmaMin = 1e-6f;
        }
        // sd.cpp calls the unqualified pow on floats: the double pow, rounded to float on assignment
        float minInvRho = (float) StrictMath.pow(sigmaMin, 1.f / rho);
        float maxInvRho = (float) StrictMath.pow(sigmaMax, 1.f / rho);
        for (int i = 0; i < n; i++) {
            out[i] = (float) StrictMath.pow(maxInvRho + (float) i / ((float) n - 1.f) * (minInvRho - maxInvRho), rho);
        }
        return out;
    }

    /** Log-linear between sigma_max and sigma_min; one step gives {@code [sigma_max, 0]} (sd.cpp: NaN). */
    static float[] exponential(int n, float sigmaMin, float sigmaMax) {
        float[] out = new float[n + 1];
        if (n == 0) {
            return out;
        }
        if (n == 1) {
            out[0] = sigmaMax;
            return out;
        }
        float logMin = FloatMath.log(sigmaMin);
        float logMax = FloatMath.log(sigmaMax);
        float step = (logMax - logMin) / (float) (n - 1);
        for (int i = 0; i < n; i++) {
            out[i] = FloatMath.exp(logMax - step * i);
        }
        return out;
    }

    static float[] alignYourStepsSd15(int n) {
        float[] out;
        if (n + 1 != AYS_SD15.length) {
            out = logLinearInterpolation(AYS_SD15, n + 1);
        } else {
            out = AYS_SD15.clone();
        }
        out[n] = 0.0f;
        return out;
    }

    static float[] sgmUniform(int n, SigmaTable table) {
        float[] out = new float[n + 1];
        if (n == 0) {
            return out;
        }
        float[] ts = linearSpace((float) T_MAX, 0.0f, n + 1);
        for (int i = 0; i < n; i++) {
            out[i] = table.tToSigma(ts[i]);
        }
        return out;
    }

    static float[] simple(int n, SigmaTable table) {
        if (n == 0) {
            return new float[0];
        }
        float[] out = new float[n + 1];
        int len = SigmaTable.TIMESTEPS;
        float stepFactor = (float) len / (float) n;
        for (int i = 0; i < n; i++) {
            int offset = (int) ((float) i * stepFactor);
            int index = len - 1 - offset;
            if (index < 0) {
                index = 0;
            }
            out[i] = table.tToSigma((float) index);
        }
        return out;
    }

    static float[] smoothstep(int n, SigmaTable table) {
        if (n == 0) {
            return new float[0];
        }
        float[] out = new float[n + 1];
        if (n == 1) {
            out[0] = table.tToSigma((float) T_MAX);
            return out;
        }
        for (int i = 0; i < n; i++) {
            float u = 1.f - (float) i / (float) n;
            float s = u * u * (3.0f - 2.0f * u);
            out[i] = table.tToSigma(FloatMath.round(s * T_MAX));
        }
        return out;
    }

    static float[] klOptimal(int n, float sigmaMin, float sigmaMax) {
        if (n == 0) {
            return new float[0];
        }
        float[] out = new float[n + 1];
        if (n == 1) {
            out[0] = sigmaMax;
            return out;
        }
        if (sigmaMin <= 1e-6f) {
            sigmaMin = 1e-6f;
        }
        float alphaMin = FloatMath.atan(sigmaMin);
        float alphaMax = FloatMath.atan(sigmaMax);
        for (int i = 0; i < n; i++) {
            float t = (float) i / (float) (n - 1);
            float angle = t * alphaMin + (1.0f - t) * alphaMax;
            out[i] = FloatMath.tan(angle);
        }
        return out;
    }

    static float[] lcm(int n, SigmaTable table) {
        float[] out = new float[n + 1];
        final int originalSteps = 50;
        final int k = SigmaTable.TIMESTEPS / originalSteps;
        for (int i = 0; i < n; i++) {
            int index = (int) (((long) i * originalSteps) / n);
            int timestep = (originalSteps - index) * k - 1;
            out[i] = table.tToSigma((float) timestep);
        }
        return out;
    }

    static float[] bongTangent(int n, float sigmaMin, float sigmaMax) {
        if (n == 0) {
            return new float[0];
        }
        float start = sigmaMax;
        float end = sigmaMin;
        float middle = sigmaMin + (sigmaMax - sigmaMin) * 0.5f;
        float pivot1 = 0.6f;
        float pivot2 = 0.6f;
        float slope1 = 0.2f;
        float slope2 = 0.2f;
        int steps = n + 2;
        int midpoint = (int) (((float) steps * pivot1 + (float) steps * pivot2) * 0.5f);
        int pivot1i = (int) ((float) steps * pivot1);
        int pivot2i = (int) ((float) steps * pivot2);
        float slopeScale = (float) steps / 40.0f;
        slope1 = slope1 / slopeScale;
        slope2 = slope2 / slopeScale;
        int stage2Len = steps - midpoint;
        int stage1Len = steps - stage2Len;
        float[] s1 = bongTangentStage(stage1Len, slope1, (float) pivot1i, start, middle);
        float[] s2 = bongTangentStage(stage2Len, slope2, (float) (pivot2i - stage1Len), middle, end);
        int s1Len = Math.max(0, s1.length - 1);
        float[] out = new float[n + 1];
        int k = 0;
        for (int i = 0; i < s1Len && k < n + 1; i++) {
            out[k++] = s1[i];
        }
        for (int i = 0; i < s2.length && k < n + 1; i++) {
            out[k++] = s2[i];
        }
        while (k < n + 1) {
            out[k++] = end;
        }
        out[n] = 0.0f;
        return out;
    }

    private static float[] bongTangentStage(int steps, float slope, float pivot, float start, float end) {
        if (steps <= 0) {
            return new float[0];
        }
        final float kPi = 3.14159265358979323846f;
        float smax = ((2.0f / kPi) * FloatMath.atan(-slope * (0.0f - pivot)) + 1.0f) * 0.5f;
        float smin = ((2.0f / kPi) * FloatMath.atan(-slope * ((float) (steps - 1) - pivot)) + 1.0f) * 0.5f;
        float srange = smax - smin;
        float sscale = start - end;
        float[] out = new float[steps];
        if (Math.abs(srange) < 1e-8f) {
            if (steps == 1) {
                out[0] = start;
                return out;
            }
            for (int i = 0; i < steps; i++) {
                float t = (float) i / (float) (steps - 1);
                out[i] = start + (end - start) * t;
            }
            return out;
        }
        float invSrange = 1.0f / srange;
        for (int x = 0; x < steps; x++) {
            float v = ((2.0f / kPi) * FloatMath.atan(-slope * ((float) x - pivot)) + 1.0f) * 0.5f;
            out[x] = ((v - smin) * invSrange) * sscale + end;
        }
        return out;
    }

    /** sd.cpp's {@code linear_space}: {@code start} then repeated float additions of {@code (end - start) / (n - 1)}. */
    static float[] linearSpace(float start, float end, int numPoints) {
        float[] out = new float[numPoints];
        float inc = (end - start) / (float) (numPoints - 1);
        if (numPoints > 0) {
            out[0] = start;
            for (int i = 1; i < numPoints; i++) {
                out[i] = out[i - 1] + inc;
            }
        }
        return out;
    }

    /**
     * sd.cpp's {@code log_linear_interpolation}: reverse the descending input to ascending, interpolate its float logs
     * linearly (in double) at {@code linear_space(0, 1, newLen)} against {@code linear_space(0, 1, len)}, exponentiate
     * in double and round to float, reverse back.
     */
    static float[] logLinearInterpolation(float[] sigmaIn, int newLen) {
        int len = sigmaIn.length;
        float[] xs = linearSpace(0.f, 1.f, len);
        float[] ys = new float[len];
        for (int i = 0; i < len; i++) {
            ys[i] = FloatMath.log(sigmaIn[len - i - 1]);
        }
        float[] newXs = linearSpace(0.f, 1.f, newLen);
        if (newXs[0] < xs[0]) {
            newXs[0] = xs[0];
        }
        if (newXs[newLen - 1] > xs[len - 1]) {
            newXs[newLen - 1] = xs[len - 1];
        }
        double[] newYs = new double[newLen];
        int i = 0;
        int j = 0;
        while (i < newLen) {
            if (j + 1 >= len) {
                throw new IllegalStateException("log-linear interpolation ran past the reference points at " + i);
            }
            if (xs[j] > newXs[i] || newXs[i] > xs[j + 1]) {
                j++;
                continue;
            }
            double perc = (double) (newXs[i] - xs[j]) / (double) (xs[j + 1] - xs[j]);
            newYs[i] = ys[j] * (1. - perc) + ys[j + 1] * perc;
            i++;
        }
        float[] out = new float[newLen];
        for (int k = 0; k < newLen; k++) {
            out[k] = (float) StrictMath.exp(newYs[newLen - k - 1]);
        }
        return out;
    }
}
