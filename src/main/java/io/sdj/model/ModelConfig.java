package io.sdj.model;

import java.util.List;
import java.util.Map;

/**
 * The shape of a complete checkpoint, read from its tensors by its family: the U-Net, the VAE and each text encoder
 * (by component, in the order the conditioner uses them).
 */
public record ModelConfig(UnetConfig unet, VaeConfig vae, Map<Component, ClipTextConfig> textEncoders) {

    public ModelConfig {
        textEncoders = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(textEncoders));
    }

    /** The components in load order: text encoders, U-Net, VAE. */
    public List<Component> components() {
        java.util.ArrayList<Component> out = new java.util.ArrayList<>(textEncoders.keySet());
        out.add(Component.UNET);
        out.add(Component.VAE);
        return List.copyOf(out);
    }

    /** The text encoder of a component. */
    public ClipTextConfig textEncoder(Component c) {
        ClipTextConfig t = textEncoders.get(c);
        if (t == null) {
            throw new IllegalArgumentException("no text encoder " + c.name());
        }
        return t;
    }

    /** A one-line summary for logs and messages. */
    public String describe() {
        StringBuilder sb = new StringBuilder("(unet: ").append(unet.describe());
        textEncoders.forEach((c, t) -> sb.append("; ").append(c.name()).append(": ").append(t.describe()));
        return sb.append("; vae: ").append(vae.describe()).append(')').toString();
    }
}
