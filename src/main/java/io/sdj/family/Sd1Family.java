package io.sdj.family;

import io.sdj.model.ClipTextConfig;
import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelFormatException;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.model.UnetConfig;
import io.sdj.runtime.Backend;
import io.sdj.runtime.WeightStore;
import io.sdj.sampling.Prediction;
import io.sdj.text.ClipTokenizer;

import java.util.Map;

/**
 * Stable Diffusion 1.x (1.4, 1.5 and their fine-tunes; also scaled-down test models of that shape): CLIP ViT-L/14
 * under {@code cond_stage_model.transformer.text_model.}, 8 attention heads, 1×1-conv projections, eps prediction.
 */
public final class Sd1Family implements ModelFamily {
    /** The text encoder component. */
    public static final Component CLIP = new Component("clip_l", "cond_stage_model.transformer.text_model.");
    /** The optional CLIP position-id buffer; sd.cpp ignores it. */
    public static final String POSITION_IDS = CLIP.name("embeddings.position_ids");

    static final Sd1Family INSTANCE = new Sd1Family();

    private Sd1Family() {
    }

    @Override
    public String displayName() {
        return "SD 1.x";
    }

    @Override
    public boolean recognizes(Map<String, TensorInfo> tensors) {
        TensorInfo tok = tensors.get(CLIP.name("embeddings.token_embedding.weight"));
        TensorInfo convIn = tensors.get(Component.UNET.name("input_blocks.0.0.weight"));
        if (tok == null || convIn == null || tok.rank() != 2) {
            return false;
        }
        return io.sdj.model.ModelDetector.contextDim(tensors).map(c -> c == tok.dim(1)).orElse(false);
    }

    @Override
    public ModelConfig configure(TensorSource source) {
        LdmLayout.Shapes s = ModelFamily.shapes(source);
        UnetConfig unet = LdmLayout.inferUnet(s, Component.UNET.prefix(), source.metadata(), UnetConfig.SD1_NUM_HEADS, 0);
        ClipTextConfig clip = LdmLayout.inferClip(s, CLIP.prefix(), ClipTextConfig.Flavor.OPENAI);
        if (unet.linearProjection() || unet.admInChannels() > 0) {
            throw new ModelFormatException(source.path(), Component.UNET.name("input_blocks"), "an SD 1.x U-Net has "
                    + "1×1-conv projections and no label embedding; this one has "
                    + (unet.linearProjection() ? "linear projections" : "a label embedding"));
        }
        if (unet.contextDim() != clip.hiddenSize()) {
            throw new ModelFormatException(source.path(), null, "the U-Net's context width " + unet.contextDim()
                    + " differs from the text encoder's hidden width " + clip.hiddenSize());
        }
        ModelConfig config = new ModelConfig(unet, LdmLayout.inferVae(s, Component.VAE.prefix()), Map.of(CLIP, clip));
        LdmLayout.validate(source.path(), source.tensors(), config, displayName(), POSITION_IDS::equals);
        return config;
    }

    @Override
    public LatentFormat latentFormat() {
        return LatentFormat.SD1;
    }

    @Override
    public int defaultClipSkip() {
        return 1;
    }

    @Override
    public Prediction defaultPrediction() {
        return Prediction.EPS;
    }

    @Override
    public Conditioner conditioner(ModelConfig config, WeightStore weights, Backend backend, ClipTokenizer tokenizer) {
        return new ClipConditioner(ModelFamily.encoder(config, CLIP, weights, backend), tokenizer,
                tokenizer.eosId()); // SD 1.x pads with end-of-text (49407 in CLIP's vocabulary)
    }

    @Override
    public String toString() {
        return displayName();
    }
}
