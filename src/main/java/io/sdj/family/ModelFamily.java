package io.sdj.family;

import io.sdj.model.ClipTextConfig;
import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.WeightStore;
import io.sdj.sampling.Prediction;
import io.sdj.text.ClipTextModel;
import io.sdj.text.ClipTokenizer;
import io.sdj.unet.UNet;
import io.sdj.vae.AutoencoderKL;

import java.util.Map;

/**
 * A model family: everything that differs between SD 1.x, SD 2.x and SDXL, behind one seam. A family recognises
 * its files from tensor names and shapes, infers and validates its configuration, names its components and their
 * weight-type rules, gives its latent format, prediction type and defaults, and builds its conditioner and its
 * diffusion model. The pipeline, CLI and samplers work only through this interface; the next family is a new class.
 */
public sealed interface ModelFamily permits Sd1Family, Sd2Family, SdxlFamily {

    /** The name sd.cpp logs ("SD 1.x", "SD 2.x", "SDXL"). */
    String displayName();

    /** True when the tensors are this family's (names and shapes; cheap, nothing is read). */
    boolean recognizes(Map<String, TensorInfo> tensors);

    /**
     * The configuration of a file of this family, inferred from its shapes and validated: every tensor it needs is
     * present with the right shape and a weight type.
     *
     * @throws io.sdj.model.ModelFormatException naming the tensor when something is missing or mis-shaped
     */
    ModelConfig configure(TensorSource source);

    /** The diffusion latents' format. */
    LatentFormat latentFormat();

    /** The clip skip used when the request gives none (sd.cpp: 1 for SD 1.x, 2 for SD 2.x and SDXL). */
    int defaultClipSkip();

    /**
     * The prediction type when the request does not say (SD 2.x files do not tell eps from v, and sd.cpp runs a
     * probe: {@link #detectPrediction}).
     */
    Prediction defaultPrediction();

    /** The prediction type for a loaded model without an explicit one; by default {@link #defaultPrediction()}. */
    default Prediction detectPrediction(DiffusionModel model) {
        return defaultPrediction();
    }

    /** The scale every VAE convolution runs at (sd.cpp: 1/32 for SDXL's VAE, see {@link SdxlFamily}). */
    default float vaeConvScale() {
        return 1.0f;
    }

    /** How each weight is stored in memory for a requested --type (null: the file's types). */
    default WeightTypePolicy weightTypes(GgmlType requested) {
        return new WeightTypePolicy(requested);
    }

    /** The text conditioner over the loaded weights. */
    Conditioner conditioner(ModelConfig config, WeightStore weights, Backend backend, ClipTokenizer tokenizer);

    /** The denoising U-Net over the loaded weights, with its attention variant (regular or flash). */
    default DiffusionModel diffusionModel(ModelConfig config, WeightStore weights, Backend backend, Attention attention) {
        return new UNetRunner(new UNet(config.unet(), Scope.of(weights, Component.UNET.prefix()), attention), backend);
    }

    /** The U-Net with regular or flash attention chosen per latent shape by {@code choice}. */
    default DiffusionModel diffusionModel(ModelConfig config, WeightStore weights, Backend backend,
                                          UNetRunner.AttentionChoice choice) {
        Scope scope = Scope.of(weights, Component.UNET.prefix());
        return new UNetRunner(new UNet(config.unet(), scope, Attention.REGULAR), backend,
                new UNet(config.unet(), scope, Attention.FLASH), choice);
    }

    /** The VAE over the loaded weights: its mid-block attention and whether it convolves directly (no im2col). */
    default AutoencoderKL autoencoder(ModelConfig config, WeightStore weights, Attention attention, boolean directConv) {
        return new AutoencoderKL(config.vae(), Scope.of(weights, Component.VAE.prefix()), attention, directConv,
                vaeConvScale());
    }

    /** A text encoder's runner over the loaded weights. */
    static ClipEncoderRunner encoder(ModelConfig config, Component c, WeightStore weights, Backend backend) {
        ClipTextConfig t = config.textEncoder(c);
        return new ClipEncoderRunner(new ClipTextModel(t, Scope.of(weights, c.prefix())), backend);
    }

    /** Shapes of a source, for inference. */
    static LdmLayout.Shapes shapes(TensorSource source) {
        return new LdmLayout.Shapes(source.path(), source.tensors());
    }
}
