package io.sdj.adapters;

import io.sdj.InvalidParameterException;
import io.sdj.text.LoraTag;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * sd-cli's prompt syntax: {@code <lora:name:multiplier>} tags are removed from the prompt and name files in the LoRA
 * folder ({@code --lora-model-dir}): {@code name.safetensors}, else {@code name.ckpt}, else {@code name.gguf}.
 */
public final class LoraTags {
    private static final List<String> EXTENSIONS = List.of(".safetensors", ".ckpt", ".gguf");

    /** A prompt without its tags and the LoRAs they named, in prompt order. */
    public record Resolved(String prompt, List<Lora> loras) {
        public Resolved {
            loras = List.copyOf(loras);
        }
    }

    private LoraTags() {
    }

    /**
     * Removes the tags from {@code prompt} and finds their files in {@code folder}.
     *
     * @throws InvalidParameterException ("lora") naming the tag whose file is not there
     */
    public static Resolved resolve(String prompt, Path folder) {
        LoraTag.Extraction x = LoraTag.extract(prompt);
        List<Lora> out = new ArrayList<>();
        for (LoraTag t : x.tags()) {
            if (t.highNoise()) {
                throw new InvalidParameterException("lora", "<lora:|high_noise|" + t.name() + ":...> is for a"
                        + " high-noise model (Wan 2.2), which sdj does not run");
            }
            out.add(new Lora(find(folder, t.name()), t.multiplier()));
        }
        return new Resolved(x.prompt(), out);
    }

    private static Path find(Path folder, String name) {
        for (String ext : EXTENSIONS) {
            Path p = folder.resolve(name + ext);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new InvalidParameterException("lora", "<lora:" + name + ":...>: no " + name + ".safetensors, "
                + name + ".ckpt or " + name + ".gguf in " + folder);
    }
}
