package io.sdj.model;

/**
 * One part of a checkpoint (U-Net, VAE, a text encoder) with the tensor-name prefix it has in the file.
 *
 * @param name   what sdj calls it in logs and messages ("unet", "vae", "clip_l", "clip_g", "open_clip_h")
 * @param prefix the tensor-name prefix, ending with a dot
 */
public record Component(String name, String prefix) {

    /** The SD U-Net of every LDM single-file checkpoint. */
    public static final Component UNET = new Component("unet", "model.diffusion_model.");
    /** The KL auto-encoder of every LDM single-file checkpoint. */
    public static final Component VAE = new Component("vae", "first_stage_model.");

    public Component {
        if (!prefix.isEmpty() && !prefix.endsWith(".")) {
            throw new IllegalArgumentException("prefix must end with '.': " + prefix);
        }
    }

    /** The full tensor name of a component-local name, e.g. UNET.name("out.2.weight"). */
    public String name(String local) {
        return prefix + local;
    }

    /** True when the tensor name belongs to this component. */
    public boolean owns(String tensorName) {
        return tensorName.startsWith(prefix);
    }

    /** The component-local part of a full name (the name itself when it is not owned). */
    public String local(String tensorName) {
        return owns(tensorName) ? tensorName.substring(prefix.length()) : tensorName;
    }
}
