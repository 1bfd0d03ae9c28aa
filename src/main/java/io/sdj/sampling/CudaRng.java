package io.sdj.sampling;

/**
 * sd.cpp's {@code cuda} generator: Philox4x32-10 plus a float Box–Muller, the CPU imitation of torch's CUDA
 * {@code randn} that sd-webui introduced.
 *
 * <p>One {@link #randn(int)} call draws element {@code i} from the counter {@code [offset, 0, i, 0]} under the key
 * {@code [seed & 0xffffffff, seed >>> 32]}; {@code offset} starts at 0 after {@link #seed(long)} and grows by one per
 * call. The first two Philox outputs {@code x, y} become one normal value
 * {@code sqrt(-2 ln u) * sin(v)} with {@code u = x*2^-32 + 2^-33}, {@code v = y*(2^-32*2pi) + (2^-32*2pi)/2}
 * (float arithmetic); outputs 2 and 3 are unused.
 *
 * <p>Precision of the transform: sd.cpp calls the unqualified C functions {@code log}, {@code sqrt} and {@code sin}
 * on float arguments; with GCC/libstdc++ and only {@code <cmath>} in scope those resolve to the double versions, so
 * {@code s = (float) sqrt(-2.0 * log((double) u))} and the result is {@code (float) (s * sin((double) v))}. A pure
 * float32 evaluation (sd-webui's numpy) differs from this in the last ulp for about 30% of the elements; seed 0 gives
 * -0.9246625, -0.42534396, -2.6438458, 0.14518386 here and -0.9246624, -0.42534393, ... in float32.
 */
public final class CudaRng implements Rng {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final float TWO_POW32_INV = 2.3283064e-10f;
    private static final float TWO_POW32_INV_2PI = 2.3283064e-10f * 6.2831855f;

    private long seed;
    private int offset;

    /** A generator seeded with 0. */
    public CudaRng() {
        seed(0);
    }

    @Override
    public void seed(long seed) {
        this.seed = seed;
        this.offset = 0;
    }

    /** The counter offset the next {@link #randn(int)} call will use (number of calls since seeding). */
    public int offset() {
        return offset;
    }

    @Override
    public float[] randn(int n) {
        Rng.checkCount(n);
        int off = offset++;
        int key0 = (int) seed;
        int key1 = (int) (seed >>> 32);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            int c0 = off;
            int c1 = 0;
            int c2 = i;
            int c3 = 0;
            int k0 = key0;
            int k1 = key1;
            for (int round = 0; round < 10; round++) {
                long p0 = Integer.toUnsignedLong(c0) * Integer.toUnsignedLong(M0);
                long p1 = Integer.toUnsignedLong(c2) * Integer.toUnsignedLong(M1);
                int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
                int n1 = (int) p1;
                int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
                int n3 = (int) p0;
                c0 = n0;
                c1 = n1;
                c2 = n2;
                c3 = n3;
                if (round < 9) {
                    k0 += W0;
                    k1 += W1;
                }
            }
            out[i] = boxMuller((float) Integer.toUnsignedLong(c0), (float) Integer.toUnsignedLong(c1));
        }
        return out;
    }

    private static float boxMuller(float x, float y) {
        float u = x * TWO_POW32_INV + TWO_POW32_INV / 2;
        float v = y * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
        float s = (float) StrictMath.sqrt(-2.0 * StrictMath.log(u));
        return (float) (s * StrictMath.sin(v));
    }

    @Override
    public RngKind kind() {
        return RngKind.CUDA;
    }
}
