package io.sdj.family;

import io.sdj.model.ModelDetector;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.model.UnsupportedModelException;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The families sdj runs, and detection of a file's family. */
public final class ModelFamilies {
    /** SD 1.x. */
    public static final ModelFamily SD1 = Sd1Family.INSTANCE;
    /** SD 2.x. */
    public static final ModelFamily SD2 = Sd2Family.INSTANCE;
    /** SDXL. */
    public static final ModelFamily SDXL = SdxlFamily.INSTANCE;

    private static final List<ModelFamily> ALL = List.of(SDXL, SD2, SD1);

    private ModelFamilies() {
    }

    /** Every family sdj runs. */
    public static List<ModelFamily> all() {
        return ALL;
    }

    /** The family that recognises these tensors, if any (known unsupported kinds never match). */
    public static Optional<ModelFamily> find(Map<String, TensorInfo> tensors) {
        if (ModelDetector.unsupportedKind(tensors) != null) {
            return Optional.empty();
        }
        for (ModelFamily f : ALL) {
            if (f.recognizes(tensors)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * The family of a source.
     *
     * @throws UnsupportedModelException naming what was found when it is a kind sdj does not run (SD 3, FLUX, an
     *                                   inpainting U-Net, ...) or nothing sdj knows
     */
    public static ModelFamily detect(TensorSource source) {
        Map<String, TensorInfo> tensors = source.tensors();
        String kind = ModelDetector.unsupportedKind(tensors);
        if (kind != null) {
            throw new UnsupportedModelException(source.path(), kind, "recognised as " + kind + "; sdj runs "
                    + names() + " text-to-image checkpoints, not this kind (yet). Found "
                    + ModelDetector.summarize(tensors));
        }
        return find(tensors).orElseThrow(() -> new UnsupportedModelException(source.path(), "unknown",
                "not a recognised Stable Diffusion checkpoint: sdj runs " + names() + " in the original single-file "
                        + "layout (model.diffusion_model.*, first_stage_model.*, and cond_stage_model.* or "
                        + "conditioner.embedders.*)" + ModelDetector.contextDim(tensors)
                        .map(c -> "; cross-attention context " + c).orElse("") + ". Found "
                        + ModelDetector.summarize(tensors)));
    }

    private static String names() {
        return String.join(", ", ALL.reversed().stream().map(ModelFamily::displayName).toList());
    }
}
