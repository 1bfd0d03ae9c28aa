package io.sdj.sampling;

/**
 * sd.cpp's {@code cpu} generator: MT19937 with torch's CPU {@code randn} transform (what ComfyUI uses).
 *
 * <ul>
 *   <li>Seeding as torch: {@code s[0] = seed & 0xffffffff}, {@code s[j] = 1812433253 * (s[j-1] ^ (s[j-1] >>> 30)) + j}.</li>
 *   <li>{@code n >= 16}: {@code n} float uniforms {@code (r32 & 0xffffff) * 2^-24} are drawn, then each block of 16 is
 *       transformed in place ({@code u1 = 1 - d[j]}, {@code u2 = d[j+8]}, {@code r = sqrt(-2 ln u1)},
 *       {@code d[j] = r cos(2 pi u2)}, {@code d[j+8] = r sin(2 pi u2)}, float math); when {@code n % 16 != 0} the last
 *       16 slots get 16 fresh uniforms and are transformed again.</li>
 *   <li>{@code n < 16}: double Box–Muller from 53-bit uniforms ({@code u1} from the first 64-bit draw,
 *       {@code u2} from the second, {@code r = sqrt(-2 log1p(-u2))}), caching the sine value for the next element;
 *       the cache survives across calls until the next {@link #seed(long)}.</li>
 * </ul>
 */
public final class CpuRng implements Rng {
    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UMASK = 0x80000000;
    private static final int LMASK = 0x7fffffff;
    private static final float TWO_PI_F = 2.0f * 3.14159265358979323846f;

    private final int[] state = new int[N];
    private int left;
    private int next;
    private boolean hasNextGauss;
    private double nextGauss;

    /** A generator seeded with 0. */
    public CpuRng() {
        seed(0);
    }

    @Override
    public void seed(long seed) {
        state[0] = (int) seed;
        for (int j = 1; j < N; j++) {
            int prev = state[j - 1];
            state[j] = 1812433253 * (prev ^ (prev >>> 30)) + j;
        }
        left = 1;
        next = 0;
        hasNextGauss = false;
        nextGauss = 0.0;
    }

    private static int twist(int u, int v) {
        int mixed = (u & UMASK) | (v & LMASK);
        return (mixed >>> 1) ^ ((v & 1) != 0 ? MATRIX_A : 0);
    }

    private void nextState() {
        left = N;
        next = 0;
        int p = 0;
        for (int j = N - M; j > 0; j--, p++) {
            state[p] = state[p + M] ^ twist(state[p], state[p + 1]);
        }
        for (int j = M - 1; j > 0; j--, p++) {
            state[p] = state[p + M - N] ^ twist(state[p], state[p + 1]);
        }
        state[p] = state[p + M - N] ^ twist(state[p], state[0]);
    }

    private int nextInt() {
        if (--left == 0) {
            nextState();
        }
        int y = state[next++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    private long nextLong() {
        long high = Integer.toUnsignedLong(nextInt());
        long low = Integer.toUnsignedLong(nextInt());
        return (high << 32) | low;
    }

    private float uniformFloat() {
        return (nextInt() & 0xffffff) * (1.0f / (1 << 24));
    }

    private double uniformDouble() {
        return (nextLong() & ((1L << 53) - 1)) * (1.0 / (1L << 53));
    }

    private double normalDouble() {
        if (hasNextGauss) {
            hasNextGauss = false;
            return nextGauss;
        }
        double u1 = uniformDouble();
        double u2 = uniformDouble();
        double r = StrictMath.sqrt(-2.0 * StrictMath.log1p(-u2));
        double theta = 2.0 * 3.14159265358979323846 * u1;
        double value = r * StrictMath.cos(theta);
        nextGauss = r * StrictMath.sin(theta);
        hasNextGauss = true;
        return value;
    }

    private static void normalFill16(float[] d, int base) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1.0f - d[base + j];
            float u2 = d[base + j + 8];
            float r = FloatMath.sqrt(-2.0f * FloatMath.log(u1));
            float theta = TWO_PI_F * u2;
            d[base + j] = r * FloatMath.cos(theta);
            d[base + j + 8] = r * FloatMath.sin(theta);
        }
    }

    @Override
    public float[] randn(int n) {
        Rng.checkCount(n);
        float[] d = new float[n];
        if (n >= 16) {
            for (int i = 0; i < n; i++) {
                d[i] = uniformFloat();
            }
            for (int i = 0; i + 16 <= n; i += 16) {
                normalFill16(d, i);
            }
            if (n % 16 != 0) {
                int base = n - 16;
                for (int i = 0; i < 16; i++) {
                    d[base + i] = uniformFloat();
                }
                normalFill16(d, base);
            }
        } else {
            for (int i = 0; i < n; i++) {
                d[i] = (float) normalDouble();
            }
        }
        return d;
    }

    @Override
    public RngKind kind() {
        return RngKind.CPU;
    }
}
