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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;

/**
 * Stable Diffusion 2.x (512-base, 768-v, SD-Turbo): OpenCLIP ViT-H/14 under {@code cond_stage_model.model.}
 * (fused q/k/v, GELU, penultimate layer by default, padded with id 0), a U-Net with 64-wide heads, linear
 * projections and a 1024-wide context. Whether a file predicts eps or v is not written in it: like sd.cpp, sdj runs
 * one probe pass of the U-Net ({@link #detectPrediction}) unless the caller says.
 */
public final class Sd2Family implements ModelFamily {
    private static final Logger LOG = LoggerFactory.getLogger(Sd2Family.class);

    /** The text encoder component. */
    public static final Component OPEN_CLIP = new Component("open_clip_h", "cond_stage_model.model.");

    static final Sd2Family INSTANCE = new Sd2Family();

    /** sd.cpp's probe: latent 8×8, every value 0.5, context of 2 tokens of 0.5, timestep 999. */
    static final int PROBE_SIZE = 8;
    static final int PROBE_TOKENS = 2;
    static final float PROBE_VALUE = 0.5f;
    static final float PROBE_TIMESTEP = 999f;
    /** v-prediction when the mean of (output − input) is below this. */
    static final float PROBE_THRESHOLD = -1f;

    private Sd2Family() {
    }

    @Override
    public String displayName() {
        return "SD 2.x";
    }

    @Override
    public boolean recognizes(Map<String, TensorInfo> tensors) {
        return tensors.containsKey(OPEN_CLIP.name("token_embedding.weight"))
                && tensors.containsKey(Component.UNET.name("input_blocks.0.0.weight"));
    }

    @Override
    public ModelConfig configure(TensorSource source) {
        LdmLayout.Shapes s = ModelFamily.shapes(source);
        UnetConfig unet = LdmLayout.inferUnet(s, Component.UNET.prefix(), source.metadata(), 0, UnetConfig.HEAD_DIM_64);
        ClipTextConfig clip = LdmLayout.inferClip(s, OPEN_CLIP.prefix(), ClipTextConfig.Flavor.OPEN_CLIP);
        if (unet.contextDim() != clip.hiddenSize()) {
            throw new ModelFormatException(source.path(), null, "the U-Net's context width " + unet.contextDim()
                    + " differs from the OpenCLIP text encoder's hidden width " + clip.hiddenSize());
        }
        if (unet.admInChannels() > 0) {
            throw new ModelFormatException(source.path(), Component.UNET.name("label_emb.0.0.weight"),
                    "an SD 2.x U-Net has no label embedding (an SD 2.x unCLIP model?)");
        }
        ModelConfig config = new ModelConfig(unet, LdmLayout.inferVae(s, Component.VAE.prefix()), Map.of(OPEN_CLIP, clip));
        LdmLayout.validate(source.path(), source.tensors(), config, displayName(),
                n -> n.equals(OPEN_CLIP.name("logit_scale")));
        return config;
    }

    @Override
    public LatentFormat latentFormat() {
        return LatentFormat.SD1;
    }

    @Override
    public int defaultClipSkip() {
        return 2;
    }

    @Override
    public Prediction defaultPrediction() {
        return Prediction.EPS;
    }

    /** sd.cpp's {@code is_using_v_parameterization_for_sd2} probe. */
    @Override
    public Prediction detectPrediction(DiffusionModel model) {
        long t0 = System.nanoTime();
        float[] x = new float[PROBE_SIZE * PROBE_SIZE * model.inChannels()];
        Arrays.fill(x, PROBE_VALUE);
        float[] context = new float[PROBE_TOKENS * contextWidth(model)];
        Arrays.fill(context, PROBE_VALUE);
        float[] out = model.predict(x, PROBE_SIZE, PROBE_SIZE, PROBE_TIMESTEP,
                new Conditioning(context, PROBE_TOKENS, null));
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += out[i] - x[i];
        }
        float mean = (float) (sum / x.length);
        Prediction p = mean < PROBE_THRESHOLD ? Prediction.V : Prediction.EPS;
        LOG.info("SD 2.x prediction probe: mean(output - input) = {} -> {}-prediction ({} s; give --prediction to skip it)",
                mean, p.name().toLowerCase(java.util.Locale.ROOT), String.format("%.2f", (System.nanoTime() - t0) / 1e9));
        return p;
    }

    private static int contextWidth(DiffusionModel model) {
        if (model instanceof UNetRunner u) {
            return u.contextDim();
        }
        throw new IllegalArgumentException("the SD 2.x probe needs a U-Net");
    }

    @Override
    public Conditioner conditioner(ModelConfig config, WeightStore weights, Backend backend, ClipTokenizer tokenizer) {
        return new ClipConditioner(ModelFamily.encoder(config, OPEN_CLIP, weights, backend), tokenizer,
                ClipTokenizer.SD2_PAD_ID);
    }

    @Override
    public String toString() {
        return displayName();
    }
}
