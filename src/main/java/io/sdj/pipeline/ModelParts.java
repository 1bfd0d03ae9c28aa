package io.sdj.pipeline;

import io.sdj.adapters.ActiveLora;
import io.sdj.adapters.LoraApplyMode;
import io.sdj.adapters.LoraPatcher;
import io.sdj.family.Conditioner;
import io.sdj.family.DiffusionModel;
import io.sdj.family.GuidanceBatching;
import io.sdj.family.UNetRunner;
import io.sdj.family.ModelFamily;
import io.sdj.family.WeightTypePolicy;
import io.sdj.model.Component;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelFiles;
import io.sdj.nn.Attention;
import io.sdj.nn.Scope;
import io.sdj.vae.AutoencoderKL;
import io.sdj.vae.VaeTiling;
import io.sdj.model.TensorSource;
import io.sdj.model.UnetConfig;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import io.sdj.text.ClipTokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The three weight groups of a loaded model (text encoders, U-Net, VAE), each with its own weight buffer and the
 * runner built over it, loaded from the model file when first asked for and released on request
 * ({@link WeightResidency#ON_DEMAND}) or kept ({@link WeightResidency#RESIDENT}).
 */
final class ModelParts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelParts.class);

    /** A weight group. */
    enum Part { TEXT, UNET, VAE }

    /** A loaded group: its weights, the LoRAs on them, and the runner built over both. */
    private static final class Loaded {
        final WeightStore store;
        final LoraPatcher patcher;
        final Function<WeightStore, AutoCloseable> build;
        AutoCloseable runner;

        Loaded(WeightStore store, LoraPatcher patcher, Function<WeightStore, AutoCloseable> build) {
            this.store = store;
            this.patcher = patcher;
            this.build = build;
        }

        WeightStore store() {
            return store;
        }

        AutoCloseable runner() {
            return runner;
        }

        void closeRunner() {
            if (runner != null) {
                try {
                    runner.close();
                } catch (Exception e) {
                    LOG.warn("closing a runner failed: {}", e.toString());
                }
                runner = null;
            }
        }

        void close() {
            try {
                closeRunner();
                patcher.close();
            } finally {
                store.close();
            }
        }
    }

    private final ModelFiles files;
    private final ModelFamily family;
    private final ModelConfig config;
    private final Backend backend;
    private final WeightTypePolicy policy;
    private final ClipTokenizer tokenizer;
    private final ProgressListener listener;
    private final Options options;
    private final Map<Part, Loaded> loaded = new EnumMap<>(Part.class);
    private double loadSeconds;
    private long samplingFootprint;
    private volatile boolean unetUsedFlash;
    private List<ActiveLora> loras = List.of();
    private LoraApplyMode loraMode = LoraApplyMode.AUTO;

    /**
     * How the runners are built.
     *
     * @param unetAttention flash attention in the U-Net: on, off, or chosen by backend and weight types
     * @param vaeAttention  attention in the VAE's mid block
     * @param vaeConvolution the VAE's convolution algorithm (im2col, direct, or chosen by memory)
     * @param tiling        VAE tiling
     * @param loading       how weights are loaded (memory-mapped where possible, conversion threads)
     * @param guidance      how guidance's two U-Net passes run
     */
    record Options(FlashAttention unetAttention, Attention vaeAttention, VaeConvolution vaeConvolution,
                   VaeTiling tiling, WeightLoader.Options loading, GuidanceBatching guidance) {
        static final Options DEFAULT = new Options(FlashAttention.OFF, Attention.REGULAR, VaeConvolution.IM2COL,
                VaeTiling.DEFAULT, WeightLoader.Options.DEFAULT, GuidanceBatching.AUTO);
    }

    ModelParts(ModelFiles files, ModelFamily family, ModelConfig config, Backend backend, WeightTypePolicy policy,
               ClipTokenizer tokenizer, ProgressListener listener, Options options) {
        this.files = files;
        this.family = family;
        this.config = config;
        this.backend = backend;
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.listener = listener;
        this.options = options;
    }

    /** True when the U-Net's last graph used flash attention (false before the U-Net has run). */
    boolean unetUsedFlash() {
        return unetUsedFlash;
    }

    /** Notes which attention the U-Net's graph used (it is released after sampling in ON_DEMAND mode). */
    private void noteUnetAttention() {
        Loaded u = loaded.get(Part.UNET);
        if (u != null && u.runner() instanceof UNetRunner r) {
            unetUsedFlash = r.usesFlashAttention();
        }
    }

    Conditioner conditioner() {
        return (Conditioner) get(Part.TEXT, ws -> family.conditioner(config, ws, backend, tokenizer));
    }

    DiffusionModel unet() {
        return (DiffusionModel) get(Part.UNET, ws -> {
            FlashAttention fa = options.unetAttention();
            boolean quantized = quantizedAttention(ws);
            DiffusionModel dm = fa.decidesPerShape(backend)
                    ? family.diffusionModel(config, ws, backend, (w, h, regularBytes) -> FlashAttention.flashFor(
                            selfAttentionTokens(config.unet(), w, h), quantized, regularBytes))
                    : family.diffusionModel(config, ws, backend,
                            fa == FlashAttention.ON ? Attention.FLASH : Attention.REGULAR);
            if (dm instanceof UNetRunner u) {
                u.guidanceBatching(options.guidance());
            }
            return dm;
        });
    }

    VaeRunner vae() {
        VaeConvolution conv = options.vaeConvolution();
        return (VaeRunner) get(Part.VAE, ws -> new VaeRunner(autoencoder(ws, conv == VaeConvolution.DIRECT),
                conv.decidesByMemory(backend) ? autoencoder(ws, true) : null, this::decodeComputeBudget, backend,
                options.tiling()));
    }

    /** Tokens of the U-Net's longest self-attention for a w×h latent: the pixels of its first level with attention. */
    static long selfAttentionTokens(UnetConfig unet, int w, int h) {
        for (int level = 0; level < unet.levels(); level++) {
            if (unet.hasAttention(level)) {
                long d = 1L << level;
                return ((w + d - 1) / d) * ((h + d - 1) / d);
            }
        }
        return 0;
    }

    /** True when any attention projection among these weights is stored quantized (q8_0, q4_0, ...). */
    static boolean quantizedAttention(WeightStore ws) {
        for (Map.Entry<String, Tensor> e : ws.tensors().entrySet()) {
            if (e.getKey().contains(".attn") && e.getValue().type().isQuantized()) {
                return true;
            }
        }
        return false;
    }

    private AutoencoderKL autoencoder(WeightStore ws, boolean directConv) {
        return files.separateVae()
                ? new AutoencoderKL(config.vae(), Scope.of(ws, Component.VAE.prefix()), options.vaeAttention(),
                        directConv, vaeConvScale())
                : family.autoencoder(config, ws, options.vaeAttention(), directConv);
    }

    /**
     * Records the memory of the sampling phase that just ended: the weights resident now plus the U-Net's compute
     * buffer. {@link VaeConvolution#AUTO} keeps the decode below it.
     */
    void noteSamplingFootprint() {
        noteUnetAttention();
        Loaded u = loaded.get(Part.UNET);
        long compute = u != null && u.runner() instanceof DiffusionModel dm ? dm.computeBytes() : 0;
        samplingFootprint = weightBytes() + compute;
    }

    /**
     * Compute bytes a decode may take without lifting the memory more than 10 % above the last sampling phase's (what
     * is resident now subtracted), but never less than {@link #MIN_DECODE_BUDGET}; {@link Long#MAX_VALUE} before any
     * sampling. (SD 1.5 at 512²: 1664 MiB of im2col buffers fit, so its decode keeps im2col's speed; SDXL at 1024²:
     * 6656 MiB do not, against a sampling phase of about 5.1 GiB.)
     */
    long decodeComputeBudget() {
        return samplingFootprint <= 0 ? Long.MAX_VALUE
                : Math.max(MIN_DECODE_BUDGET, samplingFootprint + samplingFootprint / 10 - weightBytes());
    }

    /**
     * im2col buffers up to this size are always allowed: below it, direct convolution's time (1.18x at 256²) costs
     * more than the memory it saves is worth.
     */
    static final long MIN_DECODE_BUDGET = 1L << 30;

    /**
     * The scale the VAE's convolutions run at: the family's (SDXL: 1/32) with the checkpoint's own VAE, 1 with a
     * separate VAE file (sd.cpp applies its SDXL scale only when no --vae is given).
     */
    float vaeConvScale() {
        return files.separateVae() ? 1.0f : family.vaeConvScale();
    }

    /** The LoRAs the parts carry from the next time each is asked for (merged or at run time per {@code mode}). */
    void useLoras(List<ActiveLora> list, LoraApplyMode mode) {
        loras = List.copyOf(list);
        loraMode = mode;
    }

    boolean isLoaded(Part p) {
        return loaded.containsKey(p);
    }

    /** Frees a group's weights and graphs (it is loaded again when next asked for). */
    void release(Part p) {
        Loaded l = loaded.remove(p);
        if (l != null) {
            LOG.debug("releasing the {} weights ({} MiB)", p, l.store().bufferBytes() >> 20);
            l.close();
        }
    }

    /** Bytes of weights resident now. */
    long weightBytes() {
        long n = 0;
        for (Loaded l : loaded.values()) {
            n += l.store().bufferBytes();
        }
        return n;
    }

    /** Seconds spent loading weights so far. */
    double loadSeconds() {
        return loadSeconds;
    }

    private AutoCloseable get(Part p, Function<WeightStore, AutoCloseable> build) {
        Loaded l = loaded.get(p);
        if (l == null) {
            l = load(p, build);
            loaded.put(p, l);
        } else if (!l.patcher.isCurrent(loras, loraMode)) {
            boolean rebuild = l.patcher.apply(loras, loraMode);
            if (rebuild) {
                l.closeRunner();
                l.runner = l.build.apply(l.store);
            }
        }
        return l.runner();
    }

    private List<Component> components(Part p) {
        return switch (p) {
            case TEXT -> new ArrayList<>(config.textEncoders().keySet());
            case UNET -> List.of(Component.UNET);
            case VAE -> List.of(Component.VAE);
        };
    }

    private Loaded load(Part p, Function<WeightStore, AutoCloseable> build) {
        long t0 = System.nanoTime();
        List<Component> components = components(p);
        Set<String> names = new LinkedHashSet<>();
        for (Component c : components) {
            names.addAll(LdmLayout.expectedTensors(c, config).keySet());
        }
        WeightStore ws;
        try (TensorSource file = files.open()) {
            ws = WeightLoader.load(file, names, components, backend, policy,
                    family.displayName() + " " + p.name().toLowerCase(java.util.Locale.ROOT), options.loading(),
                    (n, total) -> listener.onProgress(new Progress(Phase.LOADING_WEIGHTS, n, total, 0,
                            (System.nanoTime() - t0) / 1e9)));
        }
        Loaded l = new Loaded(ws, new LoraPatcher(ws, backend, family.displayName() + " " + p.name()
                .toLowerCase(java.util.Locale.ROOT)), build);
        try {
            l.patcher.apply(loras, loraMode);
            l.runner = build.apply(ws);
            double s = (System.nanoTime() - t0) / 1e9;
            loadSeconds += s;
            LOG.debug("loaded the {} weights: {} tensors, {} MiB in {} s", p, names.size(), ws.bufferBytes() >> 20,
                    String.format(java.util.Locale.ROOT, "%.2f", s));
            return l;
        } catch (RuntimeException e) {
            l.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (Part p : Part.values()) {
            release(p);
        }
    }
}
