package io.sdj.sampling;

/**
 * A normal-distribution generator that reproduces one of stable-diffusion.cpp's RNGs bit for bit (up to the last
 * ulp of the platform's libm, see each implementation).
 *
 * <p>sd.cpp seeds its generator once per image ({@code seed + batchIndex}) and then calls {@link #randn(int)} once
 * for the initial latent noise and once per ancestral step. The element order of a returned array is the flat order
 * of the latent tensor with width fastest (ggml {@code [W, H, C, N]}).
 *
 * <p>Instances are stateful and not thread-safe.
 */
public sealed interface Rng permits CudaRng, CpuRng, StdDefaultRng {

    /** Resets the generator to the state sd.cpp's {@code manual_seed(seed)} gives (the seed is an unsigned 64-bit value). */
    void seed(long seed);

    /**
     * Draws {@code n} standard-normal values and advances the generator as one sd.cpp {@code randn(n)} call does.
     *
     * @throws io.sdj.InvalidParameterException if {@code n} is negative
     */
    float[] randn(int n);

    /** Which of sd.cpp's generators this is. */
    RngKind kind();

    /** A new generator of the given kind, seeded with {@code seed}. */
    static Rng create(RngKind kind, long seed) {
        Rng rng = switch (kind) {
            case STD_DEFAULT -> new StdDefaultRng();
            case CUDA -> new CudaRng();
            case CPU -> new CpuRng();
        };
        rng.seed(seed);
        return rng;
    }

    /** Common argument check for {@link #randn(int)}. */
    static void checkCount(int n) {
        if (n < 0) {
            throw new io.sdj.InvalidParameterException("randn.n", "count must be >= 0, got " + n);
        }
    }
}
