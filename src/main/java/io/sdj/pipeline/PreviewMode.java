package io.sdj.pipeline;

import io.sdj.InvalidParameterException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What sd-cli's {@code --preview} decodes the per-step latents with. */
public enum PreviewMode {
    /** No previews (the default). */
    NONE("none"),
    /** sd-cli's linear latent-to-RGB projection (through the progress listener's previews, not the first stage). */
    PROJ("proj"),
    /** The tiny autoencoder (needs a TAESD file). */
    TAE("tae"),
    /** The model's own KL VAE (slow: a full decode per step). */
    VAE("vae");

    private final String cliName;

    PreviewMode(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** Looks a mode up by its sd-cli name. */
    public static PreviewMode fromName(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (PreviewMode m : values()) {
            if (m.cliName.equals(n)) {
                return m;
            }
        }
        throw new InvalidParameterException("preview", "unknown preview method '" + name + "'; expected one of "
                + Arrays.stream(values()).map(PreviewMode::cliName).collect(Collectors.joining(", ")));
    }
}
