package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.Arrays;
import java.util.stream.Collectors;

/** sd.cpp's {@code --rng} choices, with the names its CLI and PNG metadata use. The default is {@link #CUDA}. */
public enum RngKind {
    /** C++ {@code std::default_random_engine} (libstdc++: {@code minstd_rand0}) with {@code std::normal_distribution<float>}. */
    STD_DEFAULT("std_default"),
    /** Philox4x32-10, the sd-webui "GPU" generator (torch CUDA {@code randn}); sd.cpp's default. */
    CUDA("cuda"),
    /** MT19937 as torch's CPU {@code randn} (ComfyUI's default). */
    CPU("cpu");

    private final String cliName;

    RngKind(String cliName) {
        this.cliName = cliName;
    }

    /** The name as sd.cpp spells it ({@code std_default}, {@code cuda}, {@code cpu}). */
    public String cliName() {
        return cliName;
    }

    /** A fresh generator of this kind, seeded with {@code seed}. */
    public Rng create(long seed) {
        return Rng.create(this, seed);
    }

    /**
     * Looks a generator up by its sd.cpp name.
     *
     * @throws InvalidParameterException naming {@code rng} and listing the valid names
     */
    public static RngKind fromName(String name) {
        for (RngKind k : values()) {
            if (k.cliName.equals(name)) {
                return k;
            }
        }
        throw new InvalidParameterException("rng", "unknown RNG '" + name + "'; valid: "
                + Arrays.stream(values()).map(RngKind::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
