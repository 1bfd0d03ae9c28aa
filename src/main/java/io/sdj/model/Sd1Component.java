package io.sdj.model;

/**
 * The parts of an SD 1.x checkpoint in the original LDM single-file layout, each with the tensor-name prefix it has
 * in the file.
 */
public enum Sd1Component {
    /** The denoising U-Net. */
    UNET("model.diffusion_model."),
    /** The KL auto-encoder (encoder, decoder, quant_conv, post_quant_conv). */
    VAE("first_stage_model."),
    /** The CLIP ViT-L/14 text encoder (HF CLIPTextModel naming). */
    CLIP("cond_stage_model.transformer.text_model.");

    private final String prefix;

    Sd1Component(String prefix) {
        this.prefix = prefix;
    }

    /** The tensor-name prefix, ending with a dot. */
    public String prefix() {
        return prefix;
    }

    /** The full tensor name of a component-local name, e.g. UNET.name("out.2.weight"). */
    public String name(String local) {
        return prefix + local;
    }

    /** True when the tensor name belongs to this component. */
    public boolean owns(String tensorName) {
        return tensorName.startsWith(prefix);
    }
}
