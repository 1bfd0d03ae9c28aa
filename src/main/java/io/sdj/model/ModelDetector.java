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
 * Tells model families apart by tensor names and shapes, and explains why a file is not something sdj runs.
 *
 * <p>Rules, first match wins:
 * <ol>
 *   <li>a name starts with {@code conditioner.embedders.} → {@link ModelVersion#SDXL};</li>
 *   <li>a name starts with {@code cond_stage_model.model.} (OpenCLIP) → {@link ModelVersion#SD2};</li>
 *   <li>names start with diffusers module names ({@code down_blocks.}, {@code mid_block.}, {@code up_blocks.},
 *       {@code time_embedding.}, {@code text_model.}, {@code encoder.down_blocks.}, {@code decoder.up_blocks.},
 *       {@code unet.}, {@code vae.}, {@code text_encoder.}) → {@link ModelVersion#DIFFUSERS};</li>
 *   <li>with {@code model.diffusion_model.input_blocks.0.0.weight}: the cross-attention context width (dim 1 of the
 *       first {@code attn2.to_k.weight}) 2048 → SDXL, 1024 → SD2; otherwise SD 1.x when the context equals the
 *       hidden width of a {@code cond_stage_model.transformer.text_model.} CLIP (or is 768 when the file has no
 *       text encoder); then 9 input channels → {@link ModelVersion#SD1_INPAINT}, 8 →
 *       {@link ModelVersion#SD1_PIX2PIX}, else {@link ModelVersion#SD1};</li>
 *   <li>anything else → {@link ModelVersion#UNKNOWN}.</li>
 * </ol>
 */
public final class ModelDetector {

    private static final String[] DIFFUSERS_PREFIXES = {
        "down_blocks.", "mid_block.", "up_blocks.", "time_embedding.", "text_model.", "encoder.down_blocks.",
        "decoder.up_blocks.", "unet.", "vae.", "text_encoder."
    };

    private ModelDetector() {
    }

    /** The family of an open file. */
    public static ModelVersion detect(SafetensorsFile file) {
        return detect(file.tensors());
    }

    /** The family of a set of tensors (rules in the class comment). */
    public static ModelVersion detect(Map<String, TensorInfo> tensors) {
        if (anyPrefix(tensors, "conditioner.embedders.")) {
            return ModelVersion.SDXL;
        }
        if (anyPrefix(tensors, "cond_stage_model.model.")) {
            return ModelVersion.SD2;
        }
        for (String p : DIFFUSERS_PREFIXES) {
            if (anyPrefix(tensors, p)) {
                return ModelVersion.DIFFUSERS;
            }
        }
        TensorInfo convIn = tensors.get(Sd1Component.UNET.name("input_blocks.0.0.weight"));
        if (convIn == null || convIn.rank() != 4) {
            return ModelVersion.UNKNOWN;
        }
        Optional<Long> context = contextDim(tensors);
        if (context.isEmpty()) {
            return ModelVersion.UNKNOWN;
        }
        long ctx = context.get();
        if (ctx == 2048) {
            return ModelVersion.SDXL;
        }
        if (ctx == 1024) {
            return ModelVersion.SD2;
        }
        TensorInfo tok = tensors.get(Sd1Component.CLIP.name("embeddings.token_embedding.weight"));
        boolean sd1Shaped = tok != null ? tok.rank() == 2 && tok.dim(1) == ctx : ctx == 768;
        if (!sd1Shaped) {
            return ModelVersion.UNKNOWN;
        }
        return switch ((int) convIn.dim(1)) {
            case 9 -> ModelVersion.SD1_INPAINT;
            case 8 -> ModelVersion.SD1_PIX2PIX;
            default -> ModelVersion.SD1;
        };
    }

    /** Dim 1 of the first U-Net cross-attention key weight (input_blocks.1.1 when present), if any. */
    public static Optional<Long> contextDim(Map<String, TensorInfo> tensors) {
        TensorInfo t = tensors.get(Sd1Component.UNET.name("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"));
        if (t == null) {
            String best = null;
            for (String n : tensors.keySet()) {
                if (n.startsWith(Sd1Component.UNET.prefix()) && n.endsWith(".attn2.to_k.weight")
                        && (best == null || n.compareTo(best) < 0)) {
                    best = n;
                }
            }
            t = best == null ? null : tensors.get(best);
        }
        return t != null && t.rank() == 2 ? Optional.of(t.dim(1)) : Optional.empty();
    }

    /**
     * Fails unless the file is SD 1.x.
     *
     * @throws UnsupportedModelException saying what the file was recognised as and what was found in it
     */
    public static void requireSd1(SafetensorsFile file) {
        ModelVersion v = detect(file);
        if (v != ModelVersion.SD1) {
            throw new UnsupportedModelException(file.path(), v, explain(v, file.tensors()));
        }
    }

    /** Why a file of this kind is not run, with a summary of its tensors. */
    public static String explain(ModelVersion v, Map<String, TensorInfo> tensors) {
        String found = "found " + summarize(tensors);
        Optional<Long> ctx = contextDim(tensors);
        String ctxText = ctx.map(c -> ", cross-attention context " + c).orElse("");
        return switch (v) {
            case SD1 -> "SD 1.x checkpoint; " + found;
            case SD1_INPAINT -> "recognised as an SD 1.x inpainting model (9 U-Net input channels); unsupported (yet): "
                    + "sdj runs SD 1.x text-to-image checkpoints (4 input channels). " + found;
            case SD1_PIX2PIX -> "recognised as an SD 1.x InstructPix2Pix model (8 U-Net input channels); unsupported (yet): "
                    + "sdj runs SD 1.x text-to-image checkpoints (4 input channels). " + found;
            case SD2 -> "recognised as SD 2.x (OpenCLIP text encoder 'cond_stage_model.model.*'" + ctxText
                    + "); unsupported (yet): sdj runs SD 1.x checkpoints only. " + found;
            case SDXL -> "recognised as SDXL ('conditioner.embedders.*'" + ctxText
                    + "); unsupported (yet): sdj runs SD 1.x checkpoints only. " + found;
            case DIFFUSERS -> "looks like a diffusers component file (diffusers module names); diffusers layouts are "
                    + "unsupported for now: use the original single-file checkpoint (model.diffusion_model.*, "
                    + "first_stage_model.*, cond_stage_model.transformer.text_model.*). " + found;
            case UNKNOWN -> "not a recognised Stable Diffusion checkpoint: sdj expects SD 1.x in the original LDM layout "
                    + "(model.diffusion_model.*, first_stage_model.*, cond_stage_model.transformer.text_model.*" 
                    + ", cross-attention context equal to the CLIP width, 768 for SD 1.x)" + ctxText + ". " + found;
        };
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
     * Rejects what is not a single safetensors file before it is opened: a diffusers folder, another directory, a
     * PyTorch pickle/zip checkpoint ({@code .ckpt}), or a GGUF file.
     *
     * @throws UnsupportedModelException for a folder or a container format sdj does not read
     * @throws ModelFormatException      if the path does not exist or cannot be read
     */
    public static void checkContainer(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve("model_index.json")) || Files.isDirectory(path.resolve("unet"))) {
                throw new UnsupportedModelException(path, ModelVersion.DIFFUSERS, "is a diffusers folder "
                        + "(model_index.json / unet/ / vae/ / text_encoder/); diffusers layouts are unsupported for now: "
                        + "use the original single-file .safetensors checkpoint");
            }
            throw new UnsupportedModelException(path, ModelVersion.UNKNOWN,
                    "is a directory without model_index.json; expected a .safetensors checkpoint file");
        }
        if (!Files.exists(path)) {
            throw new ModelFormatException(path, "file not found");
        }
        byte[] head = new byte[9];
        int n;
        long size;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
            size = Files.size(path);
        } catch (IOException e) {
            throw new ModelFormatException(path, null, "cannot read: " + e.getMessage(), e);
        }
        if (n == 9 && head[8] == '{') {
            long headerLen = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLen > 0 && headerLen <= size - 8) {
                return; // plausibly safetensors; SafetensorsFile.open does the real checks
            }
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            throw new UnsupportedModelException(path, ModelVersion.UNKNOWN, "is a zip archive (a PyTorch .ckpt/.pt "
                    + "pickle checkpoint?); sdj reads only .safetensors: convert the checkpoint to safetensors first");
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            throw new UnsupportedModelException(path, ModelVersion.UNKNOWN, "is a Python pickle (legacy PyTorch "
                    + "checkpoint); sdj reads only .safetensors: convert the checkpoint to safetensors first");
        }
        if (n >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            throw new UnsupportedModelException(path, ModelVersion.UNKNOWN,
                    "is a GGUF file; unsupported (yet): sdj reads .safetensors checkpoints");
        }
    }
}
