package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.Arrays;
import java.util.stream.Collectors;

/** sd.cpp's {@code --sampling-method} choices that sdj implements, with sd.cpp's names. The default is {@link #EULER_A}. */
public enum SamplerKind {
    EULER("euler", 0.0f),
    EULER_A("euler_a", 1.0f),
    HEUN("heun", 0.0f),
    DPM2("dpm2", 0.0f),
    DPMPP2S_A("dpm++2s_a", 1.0f),
    DPMPP2M("dpm++2m", 0.0f),
    DPMPP2MV2("dpm++2mv2", 0.0f),
    IPNDM("ipndm", 0.0f),
    IPNDM_V("ipndm_v", 0.0f),
    LCM("lcm", 0.0f),
    DDIM_TRAILING("ddim_trailing", 0.0f),
    TCD("tcd", 0.0f);

    private final String cliName;
    private final float defaultEta;

    SamplerKind(String cliName, float defaultEta) {
        this.cliName = cliName;
        this.defaultEta = defaultEta;
    }

    /** The name as sd.cpp spells it. */
    public String cliName() {
        return cliName;
    }

    /**
     * sd.cpp's {@code resolve_eta} for an unset eta ({@code Eta: inf} in its metadata): 1 for euler_a and dpm++2s_a,
     * 0 for everything else (ddim_trailing and tcd included).
     */
    public float defaultEta() {
        return defaultEta;
    }

    /** Whether the sampler takes an eta at all (euler_a, dpm++2s_a, ddim_trailing, tcd). */
    public boolean usesEta() {
        return this == EULER_A || this == DPMPP2S_A || this == DDIM_TRAILING || this == TCD;
    }

    /** The sampler with the default eta. */
    public Sampler create() {
        return Sampler.of(this);
    }

    /**
     * Looks a sampler up by its sd.cpp name.
     *
     * @throws InvalidParameterException naming {@code sampling-method} and listing the valid names
     */
    public static SamplerKind fromName(String name) {
        for (SamplerKind k : values()) {
            if (k.cliName.equals(name)) {
                return k;
            }
        }
        throw new InvalidParameterException("sampling-method", "unknown sampler '" + name + "'; valid: "
                + Arrays.stream(values()).map(SamplerKind::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
