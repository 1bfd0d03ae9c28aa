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

    /** Latent channels in. */
    int inChannels();

    @Override
    void close();
}
