package io.sdj.adapters;

import io.sdj.InvalidParameterException;
import io.sdj.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the LoRA files of requests for one model and keeps those of the last request, so that repeating or
 * re-weighting a LoRA does not read its file again (a file changed on disk since is read again).
 */
public final class LoraLibrary {
    private record Cached(long size, FileTime modified, List<LoraModule> modules) {
    }

    private final LoraNames names;
    private Map<Path, Cached> cache = new HashMap<>();

    public LoraLibrary(LoraNames names) {
        this.names = names;
    }

    public LoraNames names() {
        return names;
    }

    /**
     * The LoRAs to apply, as sd-cli applies them: the multipliers of a file named more than once are added up, and
     * files are applied in the order of their paths (not of the list). Zero multipliers are dropped.
     *
     * @throws InvalidParameterException ("lora") for a missing file
     * @throws ModelFormatException      for a file that cannot be applied to this model
     */
    public List<ActiveLora> resolve(List<Lora> loras) {
        Map<String, Path> paths = new TreeMap<>();
        Map<String, Float> multipliers = new HashMap<>();
        for (Lora l : loras) {
            String k = l.file().toString();
            paths.putIfAbsent(k, l.file());
            multipliers.merge(k, l.multiplier(), Float::sum);
        }
        Map<Path, Cached> next = new HashMap<>();
        List<ActiveLora> out = new ArrayList<>();
        for (Map.Entry<String, Path> e : paths.entrySet()) {
            float m = multipliers.get(e.getKey());
            if (m == 0.0f) {
                continue;
            }
            Path p = e.getValue();
            Cached c = read(p);
            next.put(p, c);
            out.add(new ActiveLora(p, m, c.modules()));
        }
        cache = next;
        return out;
    }

    private Cached read(Path p) {
        if (!Files.isRegularFile(p)) {
            throw new InvalidParameterException("lora", "no such LoRA file: " + p);
        }
        long size;
        FileTime modified;
        try {
            size = Files.size(p);
            modified = Files.getLastModifiedTime(p);
        } catch (IOException e) {
            throw new ModelFormatException(p, null, "cannot read: " + e.getMessage(), e);
        }
        Cached c = cache.get(p);
        if (c != null && c.size() == size && c.modified().equals(modified)) {
            return c;
        }
        return new Cached(size, modified, LoraFile.read(p, names));
    }
}
