package io.sdj.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recognises the model files sdj does not run, so that each gets one clear error naming what was found, and
 * summarises a file's tensors for messages. The families sdj runs recognise their own files
 * ({@code io.sdj.family.ModelFamilies}); this class is asked only when none of them did, or before them for the
 * kinds that share their prefixes (inpainting and InstructPix2Pix U-Nets, the SDXL refiner).
 */
public final class ModelDetector {

    private static final String UNET = "model.diffusion_model.";

    private static final String[] DIFFUSERS_PREFIXES = {
        "down_blocks.", "mid_block.", "up_blocks.", "time_embedding.", "text_model.", "encoder.down_blocks.",
        "decoder.up_blocks.", "unet.", "vae.", "text_encoder."
    };

    private ModelDetector() {
    }

    /**
     * What an unsupported file looks like, if it is one sdj knows of: "SD 3" / "SD 3.5" (joint blocks), "FLUX"
     * (double/single stream blocks), "an inpainting U-Net" (9 input channels), "an InstructPix2Pix U-Net" (8), "the
     * SDXL refiner" (only the OpenCLIP bigG encoder), "a diffusers-named file"; null when nothing matched.
     */
    public static String unsupportedKind(Map<String, TensorInfo> tensors) {
        if (anyPrefix(tensors, UNET + "joint_blocks.") || anyPrefix(tensors, "joint_blocks.")) {
            return "SD 3 / SD 3.5 (MMDiT 'joint_blocks')";
        }
        if (anyPrefix(tensors, UNET + "double_blocks.") || anyPrefix(tensors, "double_blocks.")
                || anyPrefix(tensors, UNET + "single_blocks.")) {
            return "FLUX ('double_blocks' / 'single_blocks')";
        }
        if (anyPrefix(tensors, "conditioner.embedders.0.model.") && !anyPrefix(tensors, "conditioner.embedders.1.")) {
            return "the SDXL refiner (only the OpenCLIP bigG text encoder 'conditioner.embedders.0.model')";
        }
        TensorInfo convIn = tensors.get(UNET + "input_blocks.0.0.weight");
        if (convIn != null && convIn.rank() == 4) {
            if (convIn.dim(1) == 9) {
                return "an inpainting U-Net (9 input channels)";
            }
            if (convIn.dim(1) == 8) {
                return "an InstructPix2Pix U-Net (8 input channels)";
            }
        }
        if (!anyPrefix(tensors, UNET)) {
            for (String p : DIFFUSERS_PREFIXES) {
                if (anyPrefix(tensors, p)) {
                    return "a diffusers-named component file ('" + p + "*')";
                }
            }
        }
        return null;
    }

    /** Dim 1 of the first U-Net cross-attention key weight (input_blocks.1.1 when present), if any. */
    public static Optional<Long> contextDim(Map<String, TensorInfo> tensors) {
        TensorInfo t = tensors.get(UNET + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight");
        if (t == null) {
            String best = null;
            for (String n : tensors.keySet()) {
                if (n.startsWith(UNET) && n.endsWith(".attn2.to_k.weight") && (best == null || n.compareTo(best) < 0)) {
                    best = n;
                }
            }
            t = best == null ? null : tensors.get(best);
        }
        return t != null && t.rank() == 2 ? Optional.of(t.dim(1)) : Optional.empty();
    }

    /**
     * A short description of what a file holds: tensor count and the most common two-segment name prefixes with
     * their counts, e.g. {@code "1145 tensors; prefixes: model.diffusion_model (686), first_stage_model.decoder
     * (124), ..."}.
     */
    public static String summarize(Map<String, TensorInfo> tensors) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String n : tensors.keySet()) {
            counts.merge(prefixOf(n), 1, Integer::sum);
        }
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, b) -> b.getValue() - a.getValue() != 0 ? b.getValue() - a.getValue() : a.getKey().compareTo(b.getKey()));
        StringBuilder sb = new StringBuilder().append(tensors.size()).append(tensors.size() == 1 ? " tensor" : " tensors");
        if (!sorted.isEmpty()) {
            sb.append("; prefixes: ");
            int shown = Math.min(6, sorted.size());
            for (int i = 0; i < shown; i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(sorted.get(i).getKey()).append(" (").append(sorted.get(i).getValue()).append(')');
            }
            if (sorted.size() > shown) {
                sb.append(", ... (").append(sorted.size() - shown).append(" more)");
            }
        }
        return sb.toString();
    }

    /** The first two dot-separated segments of a name, or one when the second is a number or absent. */
    static String prefixOf(String name) {
        int a = name.indexOf('.');
        if (a < 0) {
            return name;
        }
        int b = name.indexOf('.', a + 1);
        String second = b < 0 ? name.substring(a + 1) : name.substring(a + 1, b);
        if (b < 0 || second.isEmpty() || second.chars().allMatch(Character::isDigit)) {
            return name.substring(0, a);
        }
        return name.substring(0, b);
    }

    private static boolean anyPrefix(Map<String, TensorInfo> tensors, String prefix) {
        for (String n : tensors.keySet()) {
            if (n.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Rejects what sdj cannot open as a model before it is opened: a diffusers folder, another directory, or a file
     * that is none of the tensor forms sdj reads (safetensors, GGUF, PyTorch .ckpt/.pt; see {@link TensorSources}).
     *
     * @throws UnsupportedModelException for a folder
     * @throws ModelFormatException      if the path does not exist, cannot be read or is of no known form
     */
    public static void checkContainer(Path path) {
        if (Files.isDirectory(path)) {
            DiffusersFolder.check(path);
            return;
        }
        TensorSources.detect(path);
    }
}
