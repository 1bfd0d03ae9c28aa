package io.sdj.adapters;

import java.nio.file.Path;
import java.util.List;

/**
 * A LoRA file read for a model, at a multiplier.
 *
 * @param file       the file (for messages and ordering)
 * @param multiplier the strength
 * @param modules    its modules, each mapped to a model weight
 */
public record ActiveLora(Path file, float multiplier, List<LoraModule> modules) {
    public ActiveLora {
        modules = List.copyOf(modules);
    }

    /** True when both name the same file at the same multiplier (the modules follow from the file). */
    boolean sameAs(ActiveLora o) {
        return file.equals(o.file) && Float.floatToIntBits(multiplier) == Float.floatToIntBits(o.multiplier);
    }
}
