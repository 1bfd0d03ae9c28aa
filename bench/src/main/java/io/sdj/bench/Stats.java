package io.sdj.bench;

import java.util.Arrays;
import java.util.List;

/** Order statistics over repetitions, ignoring NaN (figures a run did not measure). */
public final class Stats {
    private Stats() {
    }

    /** The median (mean of the middle two for an even count); NaN when nothing was measured. */
    public static double median(List<Double> values) {
        double[] v = finite(values);
        if (v.length == 0) {
            return Double.NaN;
        }
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    public static double min(List<Double> values) {
        double[] v = finite(values);
        return v.length == 0 ? Double.NaN : v[0];
    }

    public static double max(List<Double> values) {
        double[] v = finite(values);
        return v.length == 0 ? Double.NaN : v[v.length - 1];
    }

    /** a / b, NaN when either is missing or b is 0. */
    public static double ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? Double.NaN : a / b;
    }

    private static double[] finite(List<Double> values) {
        double[] v = values.stream().filter(d -> d != null && !d.isNaN()).mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v;
    }
}
