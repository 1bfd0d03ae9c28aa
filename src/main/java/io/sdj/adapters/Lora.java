package io.sdj.adapters;

import io.sdj.InvalidParameterException;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A LoRA file to apply to a generation, with its strength ({@code <lora:name:multiplier>} in a prompt).
 *
 * @param file       the adapter file (safetensors, GGUF or .ckpt)
 * @param multiplier the strength; the update is scaled by multiplier × alpha / rank
 */
public record Lora(Path file, float multiplier) {
    public Lora {
        Objects.requireNonNull(file, "file");
        if (!Float.isFinite(multiplier)) {
            throw new InvalidParameterException("lora", "the multiplier of " + file + " must be a finite number, got "
                    + multiplier);
        }
    }
}
