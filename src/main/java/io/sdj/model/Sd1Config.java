package io.sdj.model;

/**
 * The shape of a complete SD 1.x checkpoint: U-Net, CLIP text encoder and VAE. {@link Sd1Layout#infer} reads it
 * from a file's tensor shapes, so scaled-down test models work too.
 */
public record Sd1Config(UnetConfig unet, ClipTextConfig clip, VaeConfig vae) {

    /** Stable Diffusion 1.x (1.4, 1.5 and fine-tunes of them). */
    public static final Sd1Config SD1 = new Sd1Config(UnetConfig.SD1, ClipTextConfig.SD1, VaeConfig.SD1);

    /** The same configuration with another U-Net head count (not visible in the weights). */
    public Sd1Config withUnetHeads(int heads) {
        return new Sd1Config(unet.withNumHeads(heads), clip, vae);
    }
}
