package io.sdj.model;

import io.sdj.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The files a model is read from, as sd-cli takes them: a checkpoint or diffusers folder ({@code -m}) and/or
 * separate component files ({@code --diffusion-model}, {@code --vae}, {@code --clip_l}, {@code --clip_g}). A
 * component file replaces that component of the checkpoint (sd.cpp loads it after the checkpoint, so its tensors win);
 * without {@code -m}, the components make up the whole model. {@link #open()} gives one {@link TensorSource} in the
 * LDM single-file names.
 *
 * <p>A component file may carry its LDM prefix or sd.cpp's ({@code model.diffusion_model.}, {@code first_stage_model.}
 * or {@code vae.}, {@code cond_stage_model.transformer.} / {@code conditioner.embedders.0.transformer.},
 * {@code conditioner.embedders.1.model.}) or bare names (sd.cpp prefixes them), and may be in the diffusers /
 * transformers naming (a diffusers {@code unet/} or {@code vae/} file, a transformers CLIP text model); each is
 * mapped with {@link DiffusersNames}. CLIP-L goes under SDXL's prefix when the model is SDXL (a --clip_g, or an SDXL
 * checkpoint or U-Net), else under SD 1.x's.
 *
 * @param model          checkpoint file or diffusers folder, or null
 * @param diffusionModel the U-Net alone, or null
 * @param vae            the VAE alone, or null
 * @param clipL          CLIP ViT-L/14 alone, or null
 * @param clipG          OpenCLIP ViT-bigG/14 alone (SDXL), or null
 */
public record ModelFiles(Path model, Path diffusionModel, Path vae, Path clipL, Path clipG) {
    private static final Logger LOG = LoggerFactory.getLogger(ModelFiles.class);

    private static final String UNET = Component.UNET.prefix();
    private static final String VAE = Component.VAE.prefix();
    private static final String SD1_CLIP_L = "cond_stage_model.transformer.";
    private static final String SDXL_CLIP_L = "conditioner.embedders.0.transformer.";
    private static final String SDXL_CLIP_G = "conditioner.embedders.1.model.";

    public ModelFiles {
        if (model == null && diffusionModel == null) {
            throw new InvalidParameterException("model", "no model given: a checkpoint (-m) or a diffusion model "
                    + "(--diffusion-model) is needed");
        }
    }

    /** Just a checkpoint file or diffusers folder. */
    public static ModelFiles of(Path model) {
        return new ModelFiles(model, null, null, null, null);
    }

    /** The file messages and the tokenizer look-up start from: the checkpoint, else the diffusion model. */
    public Path primary() {
        return model != null ? model : diffusionModel;
    }

    /** True when the VAE comes from its own file. */
    public boolean separateVae() {
        return vae != null;
    }

    /** True when any component comes from its own file. */
    public boolean hasComponents() {
        return diffusionModel != null || vae != null || clipL != null || clipG != null;
    }

    /**
     * Fails unless every given path exists and is of the right kind (a file, or for the model a diffusers folder).
     *
     * @throws InvalidParameterException naming the option
     * @throws UnsupportedModelException         for a folder sdj does not read
     */
    public void check() {
        if (model != null) {
            if (Files.isDirectory(model)) {
                DiffusersFolder.check(model);
            } else if (!Files.isRegularFile(model)) {
                throw new InvalidParameterException("model", "no such file: " + model);
            }
        }
        checkFile("diffusion-model", diffusionModel);
        checkFile("vae", vae);
        checkFile("clip_l", clipL);
        checkFile("clip_g", clipG);
    }

    private static void checkFile(String option, Path p) {
        if (p != null && !Files.isRegularFile(p)) {
            throw new InvalidParameterException(option, Files.isDirectory(p) ? "is a folder, expected a "
                    + "model file: " + p : "no such file: " + p);
        }
    }

    /** The model's tensors in the LDM single-file names. */
    public TensorSource open() {
        TensorSource base = model == null ? null
                : Files.isDirectory(model) ? DiffusersFolder.open(model) : TensorSources.open(model);
        if (!hasComponents()) {
            return base;
        }
        CompositeSource.Builder b = CompositeSource.builder(primary());
        try {
            if (base != null) {
                b.own(base).metadata(base.metadata());
                for (TensorInfo t : base.tensors().values()) {
                    b.copy(t.name(), base, t);
                }
            }
            TensorSource unet = diffusionModel == null ? null : ownedPart(b, diffusionModel);
            boolean xl = clipG != null || has(base, "conditioner.embedders.") || has(base, UNET + "label_emb.")
                    || (unet != null && (has(unet, "label_emb.") || has(unet, UNET + "label_emb.") || has(unet, "add_embedding.")));
            if (unet != null) {
                replaced(b, UNET, "--diffusion-model");
                TensorSource local = local(unet, UNET);
                if (DiffusersNames.isDiffusersUnet(local.tensors())) {
                    DiffusersNames.unet(local, UNET, b);
                } else {
                    prefixed(b, local, UNET);
                }
            }
            if (vae != null) {
                TensorSource part = ownedPart(b, vae);
                replaced(b, VAE, "--vae");
                TensorSource local = local(part, VAE, "vae.");
                if (DiffusersNames.isDiffusersVae(local.tensors())) {
                    DiffusersNames.vae(local, VAE, b);
                } else {
                    prefixed(b, local, VAE);
                }
            }
            if (clipL != null) {
                TensorSource part = ownedPart(b, clipL);
                String target = xl ? SDXL_CLIP_L : SD1_CLIP_L;
                replaced(b, target, "--clip_l");
                DiffusersNames.openAiClip(local(part, SD1_CLIP_L, SDXL_CLIP_L), target, b);
            }
            if (clipG != null) {
                TensorSource part = ownedPart(b, clipG);
                replaced(b, SDXL_CLIP_G, "--clip_g");
                TensorSource local = local(part, SDXL_CLIP_G, "cond_stage_model.1.transformer.");
                if (DiffusersNames.isTransformersClip(local.tensors())) {
                    DiffusersNames.openClip(local, SDXL_CLIP_G, b);
                } else {
                    prefixed(b, local, SDXL_CLIP_G);
                }
            }
            return b.build();
        } catch (RuntimeException e) {
            b.abandon();
            throw e;
        }
    }

    private static TensorSource ownedPart(CompositeSource.Builder b, Path file) {
        TensorSource s = TensorSources.open(file);
        b.own(s).metadata(s.metadata());
        return s;
    }

    private static void replaced(CompositeSource.Builder b, String prefix, String option) {
        int n = b.dropPrefix(prefix);
        if (n > 0) {
            LOG.debug("{} replaces the checkpoint's {} tensors under {}", option, n, prefix);
        }
    }

    private static boolean has(TensorSource s, String prefix) {
        return s != null && s.tensors().keySet().stream().anyMatch(n -> n.startsWith(prefix));
    }

    /**
     * The part's tensors without their component prefix: the names under the first of {@code prefixes} the file
     * uses (other names are left out, e.g. the rest of a full checkpoint given as --vae), or all names as they are
     * when it uses none.
     */
    private static TensorSource local(TensorSource part, String... prefixes) {
        for (String p : prefixes) {
            if (has(part, p)) {
                CompositeSource.Builder v = CompositeSource.builder(part.path()).metadata(part.metadata());
                int other = 0;
                for (TensorInfo t : part.tensors().values()) {
                    if (t.name().startsWith(p)) {
                        v.copy(t.name().substring(p.length()), part, t);
                    } else {
                        other++;
                    }
                }
                if (other > 0) {
                    LOG.warn("{}: using its {} tensors; {} others are ignored", part.path(), p, other);
                }
                return v.build();
            }
        }
        return part;
    }

    private static void prefixed(CompositeSource.Builder b, TensorSource local, String prefix) {
        for (Map.Entry<String, TensorInfo> e : local.tensors().entrySet()) {
            b.copy(prefix + e.getKey(), local, e.getValue());
        }
    }
}
