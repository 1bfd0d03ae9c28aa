package io.sdj.sampling;

/**
 * sd.cpp's {@code std_default} generator as built with GCC's libstdc++: {@code std::default_random_engine}
 * ({@code minstd_rand0}: {@code x = 16807 x mod (2^31 - 1)}, seeded with {@code (unsigned) seed mod (2^31 - 1)}, 0
 * becoming 1) feeding {@code std::normal_distribution<float>} (Marsaglia polar method on
 * {@code generate_canonical<float>} uniforms).
 *
 * <p>Every {@link #randn(int)} call uses a fresh distribution object, as sd.cpp does, so a spare polar value left at
 * the end of an odd-length call is dropped. Other C++ standard libraries (MSVC, libc++) give different numbers.
 */
public final class StdDefaultRng implements Rng {
    private static final long MODULUS = 2147483647L;
    private static final long MULTIPLIER = 16807L;

    private long x;

    /** A generator seeded with 0. */
    public StdDefaultRng() {
        seed(0);
    }

    @Override
    public void seed(long seed) {
        long s = Integer.toUnsignedLong((int) seed) % MODULUS;
        x = s == 0 ? 1 : s;
    }

    private long nextRaw() {
        x = (x * MULTIPLIER) % MODULUS;
        return x;
    }

    /** libstdc++ {@code generate_canonical<float, 24>} over minstd_rand0 (one draw, divided by float(2^31 - 2) = 2^31). */
    private float canonical() {
        float sum = (float) (nextRaw() - 1);
        float ret = sum / (float) (MODULUS - 1);
        if (ret >= 1.0f) {
            ret = Math.nextDown(1.0f);
        }
        return ret;
    }

    @Override
    public float[] randn(int n) {
        Rng.checkCount(n);
        float[] out = new float[n];
        boolean savedAvailable = false;
        float saved = 0f;
        for (int i = 0; i < n; i++) {
            if (savedAvailable) {
                savedAvailable = false;
                out[i] = saved;
                continue;
            }
            float px;
            float py;
            float r2;
            do {
                px = (float) ((double) (2.0f * canonical()) - 1.0);
                py = (float) ((double) (2.0f * canonical()) - 1.0);
                r2 = px * px + py * py;
            } while (r2 > 1.0f || r2 == 0.0f);
            float mult = FloatMath.sqrt(-2.0f * FloatMath.log(r2) / r2);
            saved = px * mult;
            savedAvailable = true;
            out[i] = py * mult;
        }
        return out;
    }

    @Override
    public RngKind kind() {
        return RngKind.STD_DEFAULT;
    }
}
