package io.sdj.text;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code <lora:name:multiplier>} tag from a prompt. sd-cli removes these tags from the positive prompt before
 * tokenizing (and only when a LoRA directory is configured); {@link #extract(String)} does the removal.
 *
 * @param name       the name or path as written, without the {@code |high_noise|} prefix
 * @param multiplier the strength, parsed like C's {@code strtof}
 * @param highNoise  whether the name carried the {@code |high_noise|} prefix (Wan 2.2 high-noise model)
 */
public record LoraTag(String name, float multiplier, boolean highNoise) {
    private static final Pattern TAG = Pattern.compile("<lora:([^:>]+):([^>]+)>");
    private static final String HIGH_NOISE_PREFIX = "|high_noise|";

    public LoraTag {
        java.util.Objects.requireNonNull(name, "name");
    }

    /**
     * A prompt with its LoRA tags removed, and the tags in prompt order.
     *
     * @param prompt the prompt without the tags (nothing else changed, white space included)
     * @param tags   the tags whose multiplier is a number; tags with an unreadable multiplier are removed from the
     *               prompt but not listed, as sd-cli does
     */
    public record Extraction(String prompt, List<LoraTag> tags) {
        public Extraction {
            java.util.Objects.requireNonNull(prompt, "prompt");
            tags = List.copyOf(tags);
        }
    }

    /**
     * Removes every {@code <lora:name:multiplier>} tag from {@code prompt}. Repeated names are listed each time;
     * sd-cli adds their multipliers up per resolved file.
     */
    public static Extraction extract(String prompt) {
        List<LoraTag> tags = new ArrayList<>();
        String cleaned = prompt;
        String rest = prompt;
        Matcher m = TAG.matcher(rest);
        while (m.find()) {
            String name = m.group(1);
            Float multiplier = CFloat.parseLeading(m.group(2));
            cleaned = TAG.matcher(cleaned).replaceFirst("");
            rest = rest.substring(m.end());
            m = TAG.matcher(rest);
            if (multiplier == null) {
                continue;
            }
            boolean highNoise = name.startsWith(HIGH_NOISE_PREFIX);
            tags.add(new LoraTag(highNoise ? name.substring(HIGH_NOISE_PREFIX.length()) : name, multiplier, highNoise));
        }
        return new Extraction(cleaned, tags);
    }
}
