package io.sdj.adapters;

import io.sdj.InvalidParameterException;

import java.util.Locale;

/** When LoRA updates are applied (sd-cli's {@code --lora-apply-mode}). */
public enum LoraApplyMode {
    /**
     * Run time for a model part whose weights include a quantized one (a GGUF file, or {@code --type q8_0}), merge
     * otherwise. (sd.cpp decides from the file's types only and then aborts on merging into quantized weights.)
     */
    AUTO,
    /** Merge into the weights when they are loaded: W' = W + scale·up·down in F32, stored in the weight's type. */
    IMMEDIATELY,
    /** Leave the weights untouched and add scale·up(down(x)) to each patched layer's output. */
    AT_RUNTIME;

    /** The mode for sd-cli's spelling (auto, immediately, at_runtime). */
    public static LoraApplyMode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "immediately" -> IMMEDIATELY;
            case "at_runtime" -> AT_RUNTIME;
            default -> throw new InvalidParameterException("lora-apply-mode", "must be auto, immediately or"
                    + " at_runtime, got '" + s + "'");
        };
    }
}
