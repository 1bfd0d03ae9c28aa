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

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stable Diffusion XL (base 1.0, SDXL-Turbo and fine-tunes in the same layout): CLIP ViT-L/14 under
 * {@code conditioner.embedders.0.transformer.text_model.} and OpenCLIP ViT-bigG/14 under
 * {@code conditioner.embedders.1.model.}, both penultimate and without their final norm, concatenated into a
 * 2048-wide context; bigG's pooled, projected end-of-text embedding and the size/crop embeddings form the
 * 2816-wide vector {@code y} fed through {@code label_emb}. Per-level transformer depth (0, 2, 10), 64-wide heads,
 * latent scale 0.13025, eps prediction.
 */
public final class SdxlFamily implements ModelFamily {
    /** The first text encoder (CLIP ViT-L/14, OpenAI naming). */
    public static final Component CLIP_L = new Component("clip_l", "conditioner.embedders.0.transformer.text_model.");
    /** The second text encoder (OpenCLIP ViT-bigG/14). */
    public static final Component CLIP_G = new Component("clip_g", "conditioner.embedders.1.model.");

    /** Width of each size/crop embedding in {@code y}. */
    public static final int SIZE_EMBED_DIM = 256;
    /** Size/crop values in {@code y}: original (h, w), crop (top, left), target (h, w). */
    public static final int SIZE_VALUES = 6;

    /**
     * sd.cpp runs every VAE convolution of an SDXL checkpoint at 1/32 scale when no separate VAE is given
     * ({@code --force-sdxl-vae-conv-scale}; it logs "using Conv2D scale 0.031"): the input is multiplied by 2^-5,
     * convolved with the F16 kernel and the result multiplied by 2^5. sdj does the same for parity.
     */
    static final float VAE_CONV_SCALE = 1.0f / 32.0f;

    static final SdxlFamily INSTANCE = new SdxlFamily();

    private SdxlFamily() {
    }

    @Override
    public String displayName() {
        return "SDXL";
    }

    @Override
    public boolean recognizes(Map<String, TensorInfo> tensors) {
        return tensors.containsKey(CLIP_G.name("token_embedding.weight"))
                && tensors.containsKey(CLIP_L.name("embeddings.token_embedding.weight"))
                && tensors.containsKey(Component.UNET.name("input_blocks.0.0.weight"));
    }

    @Override
    public ModelConfig configure(TensorSource source) {
        LdmLayout.Shapes s = ModelFamily.shapes(source);
        UnetConfig unet = LdmLayout.inferUnet(s, Component.UNET.prefix(), source.metadata(), 0, UnetConfig.HEAD_DIM_64);
        ClipTextConfig l = LdmLayout.inferClip(s, CLIP_L.prefix(), ClipTextConfig.Flavor.OPENAI);
        ClipTextConfig g = LdmLayout.inferClip(s, CLIP_G.prefix(), ClipTextConfig.Flavor.OPEN_CLIP);
        if (unet.contextDim() != l.hiddenSize() + g.hiddenSize()) {
            throw new ModelFormatException(source.path(), null, "the U-Net's context width " + unet.contextDim()
                    + " is not the two text encoders' widths " + l.hiddenSize() + " + " + g.hiddenSize());
        }
        int adm = g.projectionDim() + SIZE_VALUES * SIZE_EMBED_DIM;
        if (unet.admInChannels() != adm) {
            throw new ModelFormatException(source.path(), Component.UNET.name("label_emb.0.0.weight"), "expected "
                    + adm + " input channels (pooled " + g.projectionDim() + " + " + SIZE_VALUES + " × "
                    + SIZE_EMBED_DIM + " size embeddings), found " + unet.admInChannels());
        }
        if (g.projectionDim() != g.hiddenSize()) {
            throw new ModelFormatException(source.path(), CLIP_G.name("text_projection"), "expected a square ["
                    + g.hiddenSize() + ", " + g.hiddenSize() + "] projection, found width " + g.projectionDim());
        }
        Map<Component, ClipTextConfig> encoders = new LinkedHashMap<>();
        encoders.put(CLIP_L, l);
        encoders.put(CLIP_G, g);
        ModelConfig config = new ModelConfig(unet, LdmLayout.inferVae(s, Component.VAE.prefix()), encoders);
        LdmLayout.validate(source.path(), source.tensors(), config, displayName(),
                n -> n.equals(CLIP_L.name("embeddings.position_ids")) || n.equals(CLIP_G.name("logit_scale")));
        return config;
    }

    @Override
    public LatentFormat latentFormat() {
        return LatentFormat.SDXL;
    }

    @Override
    public int defaultClipSkip() {
        return 2;
    }

    @Override
    public Prediction defaultPrediction() {
        return Prediction.EPS;
    }

    @Override
    public float vaeConvScale() {
        return VAE_CONV_SCALE;
    }

    @Override
    public Conditioner conditioner(ModelConfig config, WeightStore weights, Backend backend, ClipTokenizer tokenizer) {
        return new SdxlConditioner(ModelFamily.encoder(config, CLIP_L, weights, backend),
                ModelFamily.encoder(config, CLIP_G, weights, backend), tokenizer);
    }

    @Override
    public String toString() {
        return displayName();
    }
}
