package io.sdj.family;

/** A family's denoising network: latent, timestep and conditioning in, prediction (eps or v) out. */
public interface DiffusionModel extends AutoCloseable {

    /**
     * One forward pass.
     *
     * @param latent   [w, h, c], w fastest, already scaled by c_in
     * @param timestep the (fractional) DDPM timestep
     */
    float[] predict(float[] latent, int w, int h, float timestep, Conditioning conditioning);

    /**
     * The two predictions classifier-free guidance needs for one latent and timestep: {@code [0]} for
     * {@code cond}, {@code [1]} for {@code uncond}. This default runs two passes; a model may run them as one batch.
     */
    default float[][] predictGuided(float[] latent, int w, int h, float timestep, Conditioning cond,
                                    Conditioning uncond) {
        return new float[][]{predict(latent, w, h, timestep, cond), predict(latent, w, h, timestep, uncond)};
    }

    /** The largest compute buffer (bytes) its graphs have allocated so far; 0 when unknown. */
    default long computeBytes() {
        return 0;
    }

    /** Latent channels in. */
    int inChannels();

    @Override
    void close();
}
