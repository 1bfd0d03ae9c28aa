package io.sdj.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A diffusers pipeline folder of SD 1.x, SD 2.x or SDXL ({@code model_index.json}, {@code unet/}, {@code vae/},
 * {@code text_encoder/}, for SDXL {@code text_encoder_2/}, and {@code tokenizer/}) read as one LDM single-file
 * checkpoint: {@link #open} maps each component's names with {@link DiffusersNames} into a {@link CompositeSource}
 * whose names are those of the single file converted from the folder.
 *
 * <p>SD 1.x and SD 2.x folders have the same components; the text encoder tells them apart: CLIP ViT-L's
 * {@code quick_gelu} (SD 1.x) or OpenCLIP ViT-H's {@code gelu} (SD 2.x) in {@code text_encoder/config.json}, or,
 * without a config, its width (768 or 1024). The SD 2.x text encoder is mapped to the OpenCLIP layout (q/k/v
 * fused); it has no {@code text_projection}, which SD 2.x never applies, so an identity stands for it.
 */
public final class DiffusersFolder {
    private static final Logger LOG = LoggerFactory.getLogger(DiffusersFolder.class);

    /** The pipeline index every diffusers folder has. */
    public static final String MODEL_INDEX = "model_index.json";

    /**
     * Metadata key a source sets when its text encoder lacks final layers the family's clip skip counts (diffusers'
     * SD 2.x encoder: 23 of OpenCLIP ViT-H's 24): the pipeline takes that many off the clip skip.
     */
    public static final String DROPPED_TEXT_LAYERS_KEY = "sdj.text_encoder.dropped_final_layers";

    /** Pipelines whose folders sdj reads. */
    public static final Set<String> PIPELINES = Set.of("StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline",
            "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline");

    private static final long MAX_JSON_BYTES = 1 << 20;
    private static final String[] UNET_FILES = {"diffusion_pytorch_model.safetensors",
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin"};
    private static final String[] TEXT_FILES = {"model.safetensors", "model.fp16.safetensors", "pytorch_model.bin",
            "pytorch_model.fp16.bin"};

    /** The LDM prefixes a folder's components go under. */
    private static final String SD1_CLIP = "cond_stage_model.transformer.";
    private static final String SD2_CLIP = "cond_stage_model.model.";
    private static final String SDXL_CLIP_L = "conditioner.embedders.0.transformer.";
    private static final String SDXL_CLIP_G = "conditioner.embedders.1.model.";

    /** The family a folder is, as the folder tells it. */
    public enum Kind { SD1, SD2, SDXL }

    private DiffusersFolder() {
    }

    /** True when {@code dir} is a directory with a {@code model_index.json} or a {@code unet/} folder. */
    public static boolean looksLike(Path dir) {
        return Files.isDirectory(dir) && (Files.isRegularFile(dir.resolve(MODEL_INDEX)) || Files.isDirectory(dir.resolve("unet")));
    }

    /**
     * Checks what the folder is without reading weights.
     *
     * @throws UnsupportedModelException if it is not a pipeline sdj runs, or a component is missing
     * @throws ModelFormatException      if model_index.json or a config is not valid JSON
     */
    public static Kind check(Path dir) {
        Path index = dir.resolve(MODEL_INDEX);
        if (!Files.isRegularFile(index)) {
            throw new UnsupportedModelException(dir, Files.isDirectory(dir.resolve("unet")) ? "a diffusers folder" : "unknown",
                    "is a directory without " + MODEL_INDEX + "; sdj reads diffusers pipeline folders (" + MODEL_INDEX
                    + ", unet/, vae/, text_encoder/, tokenizer/) or model files (.safetensors, .gguf, .ckpt)");
        }
        String pipeline = json(index).get("_class_name").orElse(null) instanceof JsonValue.JsonString s ? s.value() : null;
        if (pipeline == null) {
            throw new ModelFormatException(index, "has no \"_class_name\" string naming the pipeline");
        }
        if (!PIPELINES.contains(pipeline)) {
            throw new UnsupportedModelException(dir, pipeline, "is a diffusers " + pipeline + " folder; sdj reads "
                    + "the folders of " + String.join(", ", PIPELINES.stream().sorted().toList()) + " (SD 1.x, SD 2.x, SDXL)");
        }
        boolean xl = pipeline.startsWith("StableDiffusionXL");
        for (String part : xl ? new String[]{"unet", "vae", "text_encoder", "text_encoder_2"}
                : new String[]{"unet", "vae", "text_encoder"}) {
            if (!Files.isDirectory(dir.resolve(part))) {
                throw new UnsupportedModelException(dir, pipeline, "has no " + part + "/ folder; a " + pipeline
                        + " folder needs " + (xl ? "unet/, vae/, text_encoder/ and text_encoder_2/" : "unet/, vae/ and text_encoder/")
                        + (xl && part.equals("text_encoder") ? " (an SDXL refiner, which has only text_encoder_2/, is not supported)" : ""));
            }
        }
        if (xl) {
            return Kind.SDXL;
        }
        Path config = dir.resolve("text_encoder").resolve("config.json");
        if (Files.isRegularFile(config)) {
            JsonValue.JsonObject c = json(config);
            if (c.get("hidden_act").orElse(null) instanceof JsonValue.JsonString act) {
                switch (act.value()) {
                    case "quick_gelu" -> {
                        return Kind.SD1;
                    }
                    case "gelu" -> {
                        return Kind.SD2;
                    }
                    default -> throw new UnsupportedModelException(dir, pipeline, "its text encoder's hidden_act is '"
                            + act.value() + "' (" + config + "); SD 1.x's CLIP uses quick_gelu, SD 2.x's OpenCLIP gelu");
                }
            }
        }
        return null; // decided from the text encoder's width when it is opened
    }

    /** The folder's tokenizer folder ({@code tokenizer/} with merges.txt), or null when it has none. */
    public static Path tokenizer(Path dir) {
        Path t = dir.resolve("tokenizer");
        return Files.isRegularFile(t.resolve("merges.txt")) ? t : null;
    }

    /**
     * Opens the folder as one checkpoint in the LDM single-file names.
     *
     * @throws UnsupportedModelException if it is not a folder sdj reads
     * @throws ModelFormatException      if a component file is missing or invalid
     */
    public static CompositeSource open(Path dir) {
        Kind kind = check(dir);
        CompositeSource.Builder b = CompositeSource.builder(dir);
        try {
            TensorSource unet = part(b, dir, "unet", UNET_FILES);
            DiffusersNames.unet(unet, Component.UNET.prefix(), b);
            TensorSource vae = part(b, dir, "vae", UNET_FILES);
            DiffusersNames.vae(vae, Component.VAE.prefix(), b);
            TensorSource text = part(b, dir, "text_encoder", TEXT_FILES);
            requireClip(text);
            if (kind == null) {
                long width = text.tensors().get("text_model.embeddings.token_embedding.weight").dim(1);
                kind = width == 768 ? Kind.SD1 : width == 1024 ? Kind.SD2 : null;
                if (kind == null) {
                    throw new UnsupportedModelException(dir, "a diffusers folder", "text_encoder/config.json is missing "
                            + "or has no hidden_act, and the text encoder's width " + width + " is neither SD 1.x's 768 "
                            + "nor SD 2.x's 1024");
                }
            }
            switch (kind) {
                case SD1 -> DiffusersNames.openAiClip(text, SD1_CLIP, b);
                case SD2 -> {
                    DiffusersNames.openClip(text, SD2_CLIP, b);
                    int dropped = droppedFinalLayers(text);
                    if (dropped > 0) {
                        b.metadata(Map.of(DROPPED_TEXT_LAYERS_KEY, Integer.toString(dropped)));
                        LOG.info("{}: the text encoder has 23 of OpenCLIP ViT-H's 24 layers (diffusers drops the last); "
                                + "clip skip counts on the 24, as for the single file", text.path());
                    }
                    if (!b.contains(SD2_CLIP + "text_projection")) {
                        int width = (int) text.tensors().get("text_model.embeddings.token_embedding.weight").dim(1);
                        b.identity(SD2_CLIP + "text_projection", text, width);
                    }
                }
                case SDXL -> {
                    DiffusersNames.openAiClip(text, SDXL_CLIP_L, b);
                    TensorSource text2 = part(b, dir, "text_encoder_2", TEXT_FILES);
                    requireClip(text2);
                    DiffusersNames.openClip(text2, SDXL_CLIP_G, b);
                }
            }
            LOG.debug("{}: diffusers {} folder", dir, kind);
            return b.build();
        } catch (RuntimeException e) {
            b.abandon();
            throw e;
        }
    }

    /**
     * OpenCLIP ViT-H/14 has 24 layers; diffusers keeps 23 (it runs SD 2.x at the last one it keeps, the single
     * file's penultimate). For such an encoder (width 1024, 23 layers) this is 1, else 0.
     */
    static int droppedFinalLayers(TensorSource text) {
        int layers = 0;
        while (text.contains("text_model.encoder.layers." + layers + ".layer_norm1.weight")) {
            layers++;
        }
        return droppedFinalLayers(text.tensors().get("text_model.embeddings.token_embedding.weight").dim(1), layers);
    }

    /** 1 for diffusers' form of OpenCLIP ViT-H/14 (width 1024, 23 of its 24 layers), else 0. */
    public static int droppedFinalLayers(long width, int layers) {
        return width == 1024 && layers == 23 ? 1 : 0;
    }

    private static void requireClip(TensorSource text) {
        if (!DiffusersNames.isTransformersClip(text.tensors())) {
            throw new ModelFormatException(text.path(), "text_model.embeddings.token_embedding.weight",
                    "missing: not a transformers CLIPTextModel");
        }
    }

    /** Opens a component's weights file (the first of {@code names} that exists) and hands it to the builder. */
    private static TensorSource part(CompositeSource.Builder b, Path dir, String sub, String[] names) {
        Path folder = dir.resolve(sub);
        for (String n : names) {
            Path f = folder.resolve(n);
            if (Files.isRegularFile(f)) {
                TensorSource s = TensorSources.open(f);
                b.own(s);
                b.metadata(s.metadata());
                return s;
            }
        }
        for (String n : names) {
            if (Files.isRegularFile(folder.resolve(n + ".index.json"))) {
                throw new UnsupportedModelException(folder, "sharded weights", "has its weights in shards ("
                        + n + ".index.json); sdj reads one weights file per component");
            }
        }
        throw new ModelFormatException(folder, "has no weights file (" + String.join(", ", names) + ")");
    }

    private static JsonValue.JsonObject json(Path file) {
        try {
            if (Files.size(file) > MAX_JSON_BYTES) {
                throw new ModelFormatException(file, "is larger than " + MAX_JSON_BYTES + " bytes; not a diffusers config");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            if (JsonParser.parse(text) instanceof JsonValue.JsonObject o) {
                return o;
            }
            throw new ModelFormatException(file, "is not a JSON object");
        } catch (JsonParser.JsonSyntaxException e) {
            throw new ModelFormatException(file, null, "is not valid JSON: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
    }
}
